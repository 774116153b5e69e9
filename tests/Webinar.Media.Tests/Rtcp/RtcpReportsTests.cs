using Webinar.Media.Rtcp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class RtcpReportsTests
{
    private static readonly ReportBlock Block = new(0x0A0B0C0D, 0x40, -3, 0x0001FFFF, 0x21, 0x33445566, 0x00010000);

    private static readonly byte[] BlockBytes =
    [
        0x0A, 0x0B, 0x0C, 0x0D, 0x40, 0xFF, 0xFF, 0xFD, 0x00, 0x01, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x21, 0x33, 0x44, 0x55, 0x66, 0x00, 0x01, 0x00, 0x00,
    ];

    [Fact]
    public void Sender_report_is_built_byte_exact_and_parsed_back()
    {
        var buffer = new byte[100];
        Assert.True(RtcpSenderReport.TryWrite(buffer, 0x11223344, 0xE1A2B3C4_80000000UL, 0x00BC614E, 100, 12000, [Block], out int length));
        byte[] expected =
        [
            0x81, 200, 0x00, 0x0C,
            0x11, 0x22, 0x33, 0x44,
            0xE1, 0xA2, 0xB3, 0xC4, 0x80, 0x00, 0x00, 0x00,
            0x00, 0xBC, 0x61, 0x4E,
            0x00, 0x00, 0x00, 0x64,
            0x00, 0x00, 0x2E, 0xE0,
            .. BlockBytes,
        ];
        Assert.Equal(expected, buffer[..length]);

        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpSenderReport.TryParse(packet, out var report));
        Assert.Equal(0x11223344u, report.Ssrc);
        Assert.Equal(0xE1A2B3C4_80000000UL, report.NtpTimestamp);
        Assert.Equal(0x00BC614Eu, report.RtpTimestamp);
        Assert.Equal(100u, report.PacketCount);
        Assert.Equal(12000u, report.OctetCount);
        Assert.Equal(1, report.ReportCount);
        Assert.Equal(Block, report.GetReportBlock(0));
    }

    [Fact]
    public void Receiver_report_round_trips_with_two_blocks_and_negative_loss()
    {
        var buffer = new byte[100];
        var second = Block with { Ssrc = 7, CumulativeLost = 0x7FFFFF };
        Assert.True(RtcpReceiverReport.TryWrite(buffer, 99, [Block, second], out int length));
        Assert.Equal(56, length);
        Assert.Equal(new byte[] { 0x82, 201, 0x00, 0x0D, 0, 0, 0, 99 }, buffer[..8]);
        Assert.Equal(BlockBytes, buffer[8..32]);

        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpReceiverReport.TryParse(packet, out var report));
        Assert.Equal(99u, report.Ssrc);
        Assert.Equal(Block, report.GetReportBlock(0));
        Assert.Equal(second, report.GetReportBlock(1));
        Assert.False(RtcpSenderReport.TryParse(packet, out _));
    }

    [Fact]
    public void Empty_receiver_report_is_eight_bytes()
    {
        var buffer = new byte[8];
        Assert.True(RtcpReceiverReport.TryWrite(buffer, 1, [], out int length));
        Assert.Equal(new byte[] { 0x80, 201, 0, 1, 0, 0, 0, 1 }, buffer[..length]);
    }

    [Fact]
    public void Sdes_cname_is_padded_to_a_word_and_read_back()
    {
        var buffer = new byte[64];
        Assert.True(RtcpSourceDescriptionReader.TryWriteCname(buffer, 0x01020304, "abcdef"u8, out int length));
        byte[] expected = [0x81, 202, 0x00, 0x04, 1, 2, 3, 4, 1, 6, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', (byte)'f'];
        // 4 + 4 + 2 + 6 = 16 leaves no room for the null terminator, so a whole zero word follows.
        Assert.Equal(20, length);
        Assert.Equal(expected, buffer[..16]);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, buffer[16..20]);
        Assert.Equal(0x04, buffer[3]);

        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpSourceDescriptionReader.TryCreate(packet, out var reader));
        Assert.True(reader.TryReadNextChunk(out uint ssrc, out var cname));
        Assert.Equal(0x01020304u, ssrc);
        Assert.True(cname.SequenceEqual("abcdef"u8));
        Assert.False(reader.TryReadNextChunk(out _, out _));
        Assert.False(reader.IsMalformed);
    }

    [Fact]
    public void Sdes_with_two_chunks_and_other_items_yields_each_cname()
    {
        byte[] bytes =
        [
            0x82, 202, 0x00, 0x06,
            0, 0, 0, 1, 1, 2, (byte)'x', (byte)'y', 0, 0, 0, 0,
            0, 0, 0, 2, 6, 1, (byte)'t', 1, 1, (byte)'z', 0, 0,
        ];
        Assert.True(RtcpPacket.TryParse(bytes, out var packet));
        Assert.True(RtcpSourceDescriptionReader.TryCreate(packet, out var reader));
        Assert.True(reader.TryReadNextChunk(out uint first, out var cname));
        Assert.Equal((1u, "xy"), (first, System.Text.Encoding.ASCII.GetString(cname)));
        Assert.True(reader.TryReadNextChunk(out uint second, out cname));
        Assert.Equal((2u, "z"), (second, System.Text.Encoding.ASCII.GetString(cname)));
        Assert.False(reader.TryReadNextChunk(out _, out _));
    }

    [Fact]
    public void Bye_with_reason_round_trips()
    {
        var buffer = new byte[64];
        Assert.True(RtcpGoodbye.TryWrite(buffer, [5, 6], "gone"u8, out int length));
        Assert.Equal(new byte[] { 0x82, 203, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 4, (byte)'g', (byte)'o', (byte)'n', (byte)'e', 0, 0, 0 }, buffer[..length]);
        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpGoodbye.TryParse(packet, out var bye));
        Assert.Equal(2, bye.SsrcCount);
        Assert.Equal(6u, bye.GetSsrc(1));
        Assert.True(bye.Reason.SequenceEqual("gone"u8));
    }

    [Fact]
    public void Ntp_timestamp_of_a_known_instant()
    {
        // 2025-01-01T00:00:00.5Z is 3944678400.5 s after 1900-01-01.
        ulong ntp = RtcpSenderReport.ToNtpTimestamp(new DateTimeOffset(2025, 1, 1, 0, 0, 0, 500, TimeSpan.Zero));
        Assert.Equal(3944678400UL, ntp >> 32);
        Assert.Equal(0x80000000UL, ntp & 0xFFFFFFFF);
    }
}

public sealed class RtcpCompoundReaderTests
{
    [Fact]
    public void Iterates_a_compound_of_receiver_report_sdes_and_pli()
    {
        var buffer = new byte[200];
        Assert.True(RtcpReceiverReport.TryWrite(buffer, 1, [], out int a));
        Assert.True(RtcpSourceDescriptionReader.TryWriteCname(buffer.AsSpan(a), 1, "cname"u8, out int b));
        Assert.True(RtcpPictureLossIndication.TryWrite(buffer.AsSpan(a + b), 1, 2, out int c));

        var reader = new RtcpCompoundReader(buffer.AsSpan(0, a + b + c));
        var types = new List<byte>();
        while (reader.TryReadNext(out var packet))
        {
            types.Add(packet.PacketType);
        }

        Assert.Equal(new byte[] { 201, 202, 206 }, types);
        Assert.False(reader.IsMalformed);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "length past the end", new byte[] { 0x80, 201, 0, 5, 0, 0, 0, 1 } },
        { "version 0", new byte[] { 0x00, 201, 0, 1, 0, 0, 0, 1 } },
        { "three trailing bytes", new byte[] { 0x80, 201, 0, 1, 0, 0, 0, 1, 0x80, 201, 0 } },
        { "padding larger than the body", new byte[] { 0xA0, 201, 0, 1, 0, 0, 0, 9 } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Bad_lengths_end_the_iteration_cleanly(string name, byte[] bytes)
    {
        var reader = new RtcpCompoundReader(bytes);
        while (reader.TryReadNext(out _))
        {
        }

        Assert.True(reader.IsMalformed, name);
    }

    [Fact]
    public void A_single_packet_must_fill_the_buffer()
    {
        Assert.False(RtcpPacket.TryParse(new byte[] { 0x80, 201, 0, 1, 0, 0, 0, 1, 0x80, 201, 0, 1, 0, 0, 0, 1 }, out _));
    }
}
