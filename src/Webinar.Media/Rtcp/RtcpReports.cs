using System.Buffers.Binary;

namespace Webinar.Media.Rtcp;

/// <summary>Sender report (RFC 3550 §6.4.1): sender info and up to 31 report blocks.</summary>
public readonly ref struct RtcpSenderReport
{
    private const int SenderInfoLength = 24; // SSRC + NTP(8) + RTP ts + packets + octets

    private readonly ReadOnlySpan<byte> _body;

    private RtcpSenderReport(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public static bool TryParse(RtcpPacket packet, out RtcpSenderReport report)
    {
        report = default;
        if (packet.PacketType != RtcpPacketType.SenderReport || packet.Body.Length < SenderInfoLength + (packet.Count * ReportBlock.Length))
        {
            return false;
        }

        report = new RtcpSenderReport(packet.Body, packet.Count);
        return true;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    /// <summary>64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).</summary>
    public ulong NtpTimestamp => BinaryPrimitives.ReadUInt64BigEndian(_body.Slice(4));

    public uint RtpTimestamp => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(12));

    public uint PacketCount => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(16));

    public uint OctetCount => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(20));

    public int ReportCount { get; }

    public ReportBlock GetReportBlock(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)ReportCount, nameof(index));
        return ReportBlock.Read(_body.Slice(SenderInfoLength + (index * ReportBlock.Length)));
    }

    public static bool TryWrite(Span<byte> destination, uint ssrc, ulong ntpTimestamp, uint rtpTimestamp, uint packetCount, uint octetCount,
        ReadOnlySpan<ReportBlock> blocks, out int length)
    {
        length = RtcpPacket.HeaderLength + SenderInfoLength + (blocks.Length * ReportBlock.Length);
        if (blocks.Length > ReportBlock.MaxPerReport || destination.Length < length)
        {
            length = 0;
            return false;
        }

        RtcpPacket.WriteHeader(destination, blocks.Length, RtcpPacketType.SenderReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(8), ntpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(16), rtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(20), packetCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(24), octetCount);
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i].Write(destination.Slice(28 + (i * ReportBlock.Length)));
        }

        return true;
    }

    /// <summary>Converts a wall-clock time to the 64-bit NTP format used in sender reports.</summary>
    public static ulong ToNtpTimestamp(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        ulong seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        ulong fraction = (ulong)(ticks % TimeSpan.TicksPerSecond) * (1UL << 32) / TimeSpan.TicksPerSecond;
        return (seconds << 32) | fraction;
    }
}

/// <summary>Receiver report (RFC 3550 §6.4.2): reporter SSRC and up to 31 report blocks.</summary>
public readonly ref struct RtcpReceiverReport
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpReceiverReport(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public static bool TryParse(RtcpPacket packet, out RtcpReceiverReport report)
    {
        report = default;
        if (packet.PacketType != RtcpPacketType.ReceiverReport || packet.Body.Length < 4 + (packet.Count * ReportBlock.Length))
        {
            return false;
        }

        report = new RtcpReceiverReport(packet.Body, packet.Count);
        return true;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    public int ReportCount { get; }

    public ReportBlock GetReportBlock(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)ReportCount, nameof(index));
        return ReportBlock.Read(_body.Slice(4 + (index * ReportBlock.Length)));
    }

    public static bool TryWrite(Span<byte> destination, uint ssrc, ReadOnlySpan<ReportBlock> blocks, out int length)
    {
        length = RtcpPacket.HeaderLength + 4 + (blocks.Length * ReportBlock.Length);
        if (blocks.Length > ReportBlock.MaxPerReport || destination.Length < length)
        {
            length = 0;
            return false;
        }

        RtcpPacket.WriteHeader(destination, blocks.Length, RtcpPacketType.ReceiverReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), ssrc);
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i].Write(destination.Slice(8 + (i * ReportBlock.Length)));
        }

        return true;
    }
}
