using System.Buffers.Binary;

namespace Webinar.Media.Rtcp;

/// <summary>Generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1): PID + BLP pairs, each naming up to 17 lost packets.</summary>
public readonly ref struct RtcpGenericNack
{
    private readonly ReadOnlySpan<byte> _fci;

    private RtcpGenericNack(uint senderSsrc, uint mediaSsrc, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public uint MediaSsrc { get; }

    public int PairCount => _fci.Length / 4;

    public static bool TryParse(RtcpPacket packet, out RtcpGenericNack nack)
    {
        nack = default;
        var body = packet.Body;
        if (!packet.IsFeedback(RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.GenericNack) || body.Length < 12 || (body.Length - 8) % 4 != 0)
        {
            return false;
        }

        nack = new RtcpGenericNack(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body.Slice(4)), body.Slice(8));
        return true;
    }

    /// <summary>Expands the pairs into lost sequence numbers; returns how many were written (stops when full).</summary>
    public int GetLostSequenceNumbers(Span<ushort> destination)
    {
        int written = 0;
        for (int pair = 0; pair < PairCount; pair++)
        {
            ushort pid = BinaryPrimitives.ReadUInt16BigEndian(_fci.Slice(pair * 4));
            ushort blp = BinaryPrimitives.ReadUInt16BigEndian(_fci.Slice((pair * 4) + 2));
            if (written == destination.Length)
            {
                return written;
            }

            destination[written++] = pid;
            for (int bit = 0; bit < 16; bit++)
            {
                if ((blp & (1 << bit)) == 0)
                {
                    continue;
                }

                if (written == destination.Length)
                {
                    return written;
                }

                destination[written++] = (ushort)(pid + bit + 1);
            }
        }

        return written;
    }

    /// <summary>
    /// Writes a NACK for lost sequence numbers given in ascending (wrap-aware) order; consecutive numbers within 16
    /// of a PID share its bitmask.
    /// </summary>
    public static bool TryWrite(Span<byte> destination, uint senderSsrc, uint mediaSsrc, ReadOnlySpan<ushort> lost, out int length)
    {
        length = 0;
        if (lost.IsEmpty || destination.Length < 16)
        {
            return false;
        }

        int at = 12;
        int index = 0;
        while (index < lost.Length)
        {
            if (at + 4 > destination.Length || at + 4 > 4 * 65536)
            {
                return false;
            }

            ushort pid = lost[index++];
            ushort blp = 0;
            while (index < lost.Length)
            {
                int distance = (ushort)(lost[index] - pid);
                if (distance == 0)
                {
                    index++; // duplicate
                    continue;
                }

                if (distance > 16)
                {
                    break;
                }

                blp |= (ushort)(1 << (distance - 1));
                index++;
            }

            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(at), pid);
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(at + 2), blp);
            at += 4;
        }

        RtcpPacket.WriteHeader(destination, RtcpFeedbackFormat.GenericNack, RtcpPacketType.TransportFeedback, at);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), mediaSsrc);
        length = at;
        return true;
    }
}

/// <summary>Picture loss indication (RFC 4585 §6.3.1, PSFB FMT 1): no FCI.</summary>
public readonly ref struct RtcpPictureLossIndication
{
    public const int Length = 12;

    public uint SenderSsrc { get; private init; }

    public uint MediaSsrc { get; private init; }

    public static bool TryParse(RtcpPacket packet, out RtcpPictureLossIndication pli)
    {
        pli = default;
        var body = packet.Body;
        if (!packet.IsFeedback(RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.PictureLossIndication) || body.Length < 8)
        {
            return false;
        }

        pli = new RtcpPictureLossIndication
        {
            SenderSsrc = BinaryPrimitives.ReadUInt32BigEndian(body),
            MediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(body.Slice(4)),
        };
        return true;
    }

    public static bool TryWrite(Span<byte> destination, uint senderSsrc, uint mediaSsrc, out int length)
    {
        length = 0;
        if (destination.Length < Length)
        {
            return false;
        }

        RtcpPacket.WriteHeader(destination, RtcpFeedbackFormat.PictureLossIndication, RtcpPacketType.PayloadFeedback, Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), mediaSsrc);
        length = Length;
        return true;
    }
}

/// <summary>Full intra request (RFC 5104 §4.3.1, PSFB FMT 4): entries of (SSRC, command sequence number).</summary>
public readonly ref struct RtcpFullIntraRequest
{
    private readonly ReadOnlySpan<byte> _fci;

    private RtcpFullIntraRequest(uint senderSsrc, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = senderSsrc;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public int EntryCount => _fci.Length / 8;

    public static bool TryParse(RtcpPacket packet, out RtcpFullIntraRequest fir)
    {
        fir = default;
        var body = packet.Body;
        if (!packet.IsFeedback(RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.FullIntraRequest) || body.Length < 16 || (body.Length - 8) % 8 != 0)
        {
            return false;
        }

        fir = new RtcpFullIntraRequest(BinaryPrimitives.ReadUInt32BigEndian(body), body.Slice(8));
        return true;
    }

    public void GetEntry(int index, out uint ssrc, out byte sequenceNumber)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)EntryCount, nameof(index));
        ssrc = BinaryPrimitives.ReadUInt32BigEndian(_fci.Slice(index * 8));
        sequenceNumber = _fci[(index * 8) + 4];
    }

    /// <summary>Writes a FIR for one media source (media SSRC field 0, as RFC 5104 requires).</summary>
    public static bool TryWrite(Span<byte> destination, uint senderSsrc, uint mediaSsrc, byte sequenceNumber, out int length)
    {
        length = 20;
        if (destination.Length < length)
        {
            length = 0;
            return false;
        }

        RtcpPacket.WriteHeader(destination, RtcpFeedbackFormat.FullIntraRequest, RtcpPacketType.PayloadFeedback, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(12), mediaSsrc);
        destination[16] = sequenceNumber;
        destination.Slice(17, 3).Clear();
        return true;
    }
}

/// <summary>
/// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03, PSFB FMT 15 with "REMB"): a bitrate as
/// 6-bit exponent and 18-bit mantissa, and the SSRCs it applies to.
/// </summary>
public readonly ref struct RtcpRemb
{
    private const uint RembIdentifier = 0x52454D42; // "REMB"
    private const int MaxMantissa = 0x3FFFF;

    private readonly ReadOnlySpan<byte> _ssrcs;

    private RtcpRemb(uint senderSsrc, ulong bitrate, ReadOnlySpan<byte> ssrcs)
    {
        SenderSsrc = senderSsrc;
        Bitrate = bitrate;
        _ssrcs = ssrcs;
    }

    public uint SenderSsrc { get; }

    /// <summary>Bits per second; saturates at <see cref="ulong.MaxValue"/> for exponents beyond 64 bits.</summary>
    public ulong Bitrate { get; }

    public int SsrcCount => _ssrcs.Length / 4;

    public uint GetSsrc(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)SsrcCount, nameof(index));
        return BinaryPrimitives.ReadUInt32BigEndian(_ssrcs.Slice(index * 4));
    }

    public static bool TryParse(RtcpPacket packet, out RtcpRemb remb)
    {
        remb = default;
        var body = packet.Body;
        if (!packet.IsFeedback(RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.ApplicationLayer) || body.Length < 16
            || BinaryPrimitives.ReadUInt32BigEndian(body.Slice(8)) != RembIdentifier)
        {
            return false;
        }

        int count = body[12];
        if (body.Length < 16 + (count * 4))
        {
            return false;
        }

        int exponent = body[13] >> 2;
        ulong mantissa = ((ulong)(body[13] & 0x03) << 16) | ((ulong)body[14] << 8) | body[15];
        ulong bitrate = mantissa == 0 ? 0 : exponent > 63 - 18 && (mantissa >> (64 - exponent)) != 0 ? ulong.MaxValue : mantissa << exponent;
        remb = new RtcpRemb(BinaryPrimitives.ReadUInt32BigEndian(body), bitrate, body.Slice(16, count * 4));
        return true;
    }

    public static bool TryWrite(Span<byte> destination, uint senderSsrc, ulong bitrate, ReadOnlySpan<uint> ssrcs, out int length)
    {
        length = 20 + (ssrcs.Length * 4);
        if (ssrcs.Length > 255 || destination.Length < length)
        {
            length = 0;
            return false;
        }

        int exponent = 0;
        while (bitrate >> exponent > MaxMantissa)
        {
            exponent++;
        }

        uint mantissa = (uint)(bitrate >> exponent);
        RtcpPacket.WriteHeader(destination, RtcpFeedbackFormat.ApplicationLayer, RtcpPacketType.PayloadFeedback, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(12), RembIdentifier);
        destination[16] = (byte)ssrcs.Length;
        destination[17] = (byte)((exponent << 2) | (int)(mantissa >> 16));
        destination[18] = (byte)(mantissa >> 8);
        destination[19] = (byte)mantissa;
        for (int i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(20 + (i * 4)), ssrcs[i]);
        }

        return true;
    }
}
