using System.Buffers.Binary;

namespace Webinar.Media.Rtp;

/// <summary>What <see cref="RtxPacket.TryUnwrap"/> made of a packet on a retransmission stream.</summary>
public enum RtxUnwrapResult
{
    /// <summary>The original packet, restored.</summary>
    Repaired,

    /// <summary>No payload at all, only padding: a sender probing bandwidth on its RTX stream (nothing to repair).</summary>
    Padding,

    /// <summary>A payload shorter than the 2-byte OSN, or not valid RTP.</summary>
    Malformed,
}

/// <summary>
/// The RTP retransmission payload format (RFC 4588 §4), SSRC-multiplexed as WebRTC uses it: a retransmission goes on
/// its own SSRC with its own payload type (whose a=fmtp apt names the original's) and sequence-number space, the
/// original timestamp, marker, CSRCs and header extensions, and a payload of the 2-byte original sequence number (OSN)
/// followed by the original payload; the original's padding is not carried (§4: removed, the retransmission padded on
/// its own if at all). Both directions work in caller-owned spans; nothing is allocated.
/// </summary>
public static class RtxPacket
{
    /// <summary>The retransmission payload header: the OSN.</summary>
    public const int HeaderLength = 2;

    /// <summary>
    /// Writes the retransmission of <paramref name="original"/> (plain RTP) into <paramref name="destination"/>
    /// (which must not overlap it): header as the original with <paramref name="payloadType"/>,
    /// <paramref name="sequenceNumber"/> and <paramref name="ssrc"/> of the RTX stream and the P bit cleared, then the
    /// OSN and the original payload. False when the original is not valid RTP or the result does not fit.
    /// </summary>
    public static bool TryWrap(
        ReadOnlySpan<byte> original, Span<byte> destination, byte payloadType, ushort sequenceNumber, uint ssrc, out int length)
    {
        length = 0;
        if (!TryMeasure(original, out var headerLength, out var payloadLength)
            || headerLength + HeaderLength + payloadLength > destination.Length)
        {
            return false;
        }

        original[..headerLength].CopyTo(destination);
        destination[0] &= 0xDF; // P = 0: the original's padding stays behind
        destination[1] = (byte)((destination[1] & 0x80) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ssrc);
        destination[headerLength] = original[2]; // OSN: the original sequence number, network order
        destination[headerLength + 1] = original[3];
        original.Slice(headerLength, payloadLength).CopyTo(destination[(headerLength + HeaderLength)..]);
        length = headerLength + HeaderLength + payloadLength;
        return true;
    }

    /// <summary>
    /// Restores the original packet from a retransmission in <paramref name="packet"/>, in place: the sequence number
    /// becomes the OSN, the payload type <paramref name="originalPayloadType"/> (the rtx format's apt), the SSRC
    /// <paramref name="originalSsrc"/>; the header moves 2 bytes on over the OSN, so the original is
    /// <c>packet.Slice(offset, length)</c> (any padding of the retransmission kept, which RTP allows).
    /// </summary>
    public static RtxUnwrapResult TryUnwrap(Span<byte> packet, byte originalPayloadType, uint originalSsrc, out int offset, out int length)
    {
        offset = 0;
        length = 0;
        if (!RtpPacket.TryParse(packet, out var view))
        {
            return RtxUnwrapResult.Malformed;
        }

        if (view.Payload.Length == 0 && view.HasPadding)
        {
            return RtxUnwrapResult.Padding;
        }

        if (view.Payload.Length < HeaderLength)
        {
            return RtxUnwrapResult.Malformed;
        }

        var headerLength = view.HeaderLength;
        var osn = BinaryPrimitives.ReadUInt16BigEndian(packet[headerLength..]);
        view.SequenceNumber = osn;
        view.PayloadType = originalPayloadType;
        view.Ssrc = originalSsrc;
        packet[..headerLength].CopyTo(packet[HeaderLength..]); // memmove: the header now ends where the payload starts
        offset = HeaderLength;
        length = packet.Length - HeaderLength;
        return RtxUnwrapResult.Repaired;
    }

    /// <summary>Header length (fixed header, CSRCs, extensions) and payload length (without padding) of valid RTP.</summary>
    private static bool TryMeasure(ReadOnlySpan<byte> packet, out int headerLength, out int payloadLength)
    {
        headerLength = 0;
        payloadLength = 0;
        if (packet.Length < RtpPacket.FixedHeaderLength || (packet[0] >> 6) != 2)
        {
            return false;
        }

        var offset = RtpPacket.FixedHeaderLength + ((packet[0] & 0x0F) * 4);
        if ((packet[0] & 0x10) != 0)
        {
            if (offset + 4 > packet.Length)
            {
                return false;
            }

            offset += 4 + (BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) * 4);
        }

        if (offset > packet.Length)
        {
            return false;
        }

        var padding = 0;
        if ((packet[0] & 0x20) != 0)
        {
            padding = packet[^1];
            if (padding == 0 || offset + padding > packet.Length)
            {
                return false;
            }
        }

        headerLength = offset;
        payloadLength = packet.Length - offset - padding;
        return true;
    }
}
