using System.Buffers.Binary;

namespace Webinar.Media.Rtcp;

/// <summary>RTCP packet types (RFC 3550, RFC 4585).</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Goodbye = 203;
    public const byte ApplicationDefined = 204;
    public const byte TransportFeedback = 205; // RTPFB
    public const byte PayloadFeedback = 206;   // PSFB
    public const byte ExtendedReport = 207;
}

/// <summary>Feedback message types (FMT) of RTPFB and PSFB packets.</summary>
public static class RtcpFeedbackFormat
{
    public const int GenericNack = 1;               // RTPFB, RFC 4585
    public const int TransportWideCongestionControl = 15; // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions-01
    public const int PictureLossIndication = 1;     // PSFB, RFC 4585
    public const int FullIntraRequest = 4;          // PSFB, RFC 5104
    public const int ApplicationLayer = 15;         // PSFB, REMB lives here
}

/// <summary>
/// A view over one RTCP packet inside a compound packet: the common header (V, P, count/FMT, PT, length) and
/// its body. Produced by <see cref="RtcpCompoundReader"/>, which has checked the length.
/// </summary>
public readonly ref struct RtcpPacket
{
    public const int HeaderLength = 4;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _bodyLength;

    internal RtcpPacket(ReadOnlySpan<byte> packet, int bodyLength)
    {
        _packet = packet;
        _bodyLength = bodyLength;
    }

    /// <summary>Checks one packet on its own (version 2, length field matches, padding inside the body).</summary>
    public static bool TryParse(ReadOnlySpan<byte> buffer, out RtcpPacket packet)
    {
        var reader = new RtcpCompoundReader(buffer);
        if (reader.TryReadNext(out packet) && packet.Length == buffer.Length)
        {
            return true;
        }

        packet = default;
        return false;
    }

    /// <summary>The whole packet, header included (4 × (length + 1) bytes).</summary>
    public ReadOnlySpan<byte> Span => _packet;

    public int Length => _packet.Length;

    public bool Padding => (_packet[0] & 0x20) != 0;

    /// <summary>Report count, source count or feedback message type, by packet type.</summary>
    public int Count => _packet[0] & 0x1F;

    public byte PacketType => _packet[1];

    /// <summary>The bytes after the 4-byte header, without padding.</summary>
    public ReadOnlySpan<byte> Body => _packet.Slice(HeaderLength, _bodyLength);

    public bool IsFeedback(byte packetType, int format) => PacketType == packetType && Count == format;

    internal static void WriteHeader(Span<byte> destination, int count, byte packetType, int totalLength)
    {
        destination[0] = (byte)(0x80 | count);
        destination[1] = packetType;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), (ushort)((totalLength / 4) - 1));
    }
}

/// <summary>
/// Walks a compound RTCP packet, yielding each packet as a view. Stops cleanly at the end or at the first malformed
/// packet (then <see cref="IsMalformed"/> is true); never throws.
/// </summary>
public ref struct RtcpCompoundReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _offset;

    public RtcpCompoundReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _offset = 0;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    public bool TryReadNext(out RtcpPacket packet)
    {
        packet = default;
        if (IsMalformed || _offset >= _buffer.Length)
        {
            return false;
        }

        var rest = _buffer.Slice(_offset);
        if (rest.Length < RtcpPacket.HeaderLength || (rest[0] >> 6) != 2)
        {
            IsMalformed = true;
            return false;
        }

        int length = (BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(2)) + 1) * 4;
        if (length > rest.Length)
        {
            IsMalformed = true;
            return false;
        }

        int bodyLength = length - RtcpPacket.HeaderLength;
        if ((rest[0] & 0x20) != 0)
        {
            int padding = rest[length - 1];
            if (padding > bodyLength)
            {
                IsMalformed = true;
                return false;
            }

            bodyLength -= padding;
        }

        packet = new RtcpPacket(rest.Slice(0, length), bodyLength);
        _offset += length;
        return true;
    }
}
