using Webinar.Media.Rtcp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class RtcpFeedbackTests
{
    private static RtcpPacket Parse(byte[] bytes)
    {
        Assert.True(RtcpPacket.TryParse(bytes, out var packet));
        return packet;
    }

    [Fact]
    public void Nack_groups_lost_packets_into_pid_and_bitmask_pairs()
    {
        var buffer = new byte[64];
        ushort[] lost = [65534, 65535, 0, 16, 17, 40];
        Assert.True(RtcpGenericNack.TryWrite(buffer, 0x01, 0x02, lost, out int length));
        byte[] expected =
        [
            0x81, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2,
            0xFF, 0xFE, 0x00, 0b0000_0011, // 65534 + {65535, 0}
            0x00, 0x10, 0x00, 0b0000_0001, // 16 + {17}
            0x00, 0x28, 0x00, 0x00,        // 40
        ];
        Assert.Equal(expected, buffer[..length]);

        Assert.True(RtcpGenericNack.TryParse(Parse(buffer[..length]), out var nack));
        Assert.Equal(1u, nack.SenderSsrc);
        Assert.Equal(2u, nack.MediaSsrc);
        Span<ushort> back = stackalloc ushort[32];
        int count = nack.GetLostSequenceNumbers(back);
        Assert.Equal(lost, back[..count].ToArray());
        Assert.Equal(2, nack.GetLostSequenceNumbers(back[..2]));
    }

    [Fact]
    public void Pli_is_twelve_bytes()
    {
        var buffer = new byte[12];
        Assert.True(RtcpPictureLossIndication.TryWrite(buffer, 0xAABBCCDD, 0x11223344, out int length));
        Assert.Equal(new byte[] { 0x81, 206, 0, 2, 0xAA, 0xBB, 0xCC, 0xDD, 0x11, 0x22, 0x33, 0x44 }, buffer[..length]);
        Assert.True(RtcpPictureLossIndication.TryParse(Parse(buffer), out var pli));
        Assert.Equal(0x11223344u, pli.MediaSsrc);
        Assert.False(RtcpGenericNack.TryParse(Parse(buffer), out _));
    }

    [Fact]
    public void Fir_carries_the_target_ssrc_and_sequence_number()
    {
        var buffer = new byte[20];
        Assert.True(RtcpFullIntraRequest.TryWrite(buffer, 1, 0x11223344, 7, out int length));
        Assert.Equal(new byte[] { 0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 7, 0, 0, 0 }, buffer[..length]);
        Assert.True(RtcpFullIntraRequest.TryParse(Parse(buffer), out var fir));
        Assert.Equal(1, fir.EntryCount);
        fir.GetEntry(0, out uint ssrc, out byte seq);
        Assert.Equal((0x11223344u, (byte)7), (ssrc, seq));
    }

    // pion/rtcp receiver_estimated_maximum_bitrate_test.go: "Real data sent by Chrome while watching a 6Mb/s stream".
    private static readonly byte[] ChromeRemb = [143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, 26, 32, 223, 72, 116, 237, 22];

    [Fact]
    public void Remb_from_chrome_parses_and_rebuilds_byte_exact()
    {
        Assert.True(RtcpRemb.TryParse(Parse(ChromeRemb), out var remb));
        Assert.Equal(1u, remb.SenderSsrc);
        Assert.Equal(8_927_168UL, remb.Bitrate);
        Assert.Equal(1, remb.SsrcCount);
        Assert.Equal(1215622422u, remb.GetSsrc(0));

        var buffer = new byte[64];
        Assert.True(RtcpRemb.TryWrite(buffer, 1, 8_927_168, [1215622422], out int length));
        Assert.Equal(ChromeRemb, buffer[..length]);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(262_143UL)]
    [InlineData(262_144UL)]
    [InlineData(1_500_000UL)]
    [InlineData(ulong.MaxValue)]
    public void Remb_bitrate_round_trips_within_mantissa_precision(ulong bitrate)
    {
        var buffer = new byte[64];
        Assert.True(RtcpRemb.TryWrite(buffer, 1, bitrate, [], out int length));
        Assert.True(RtcpRemb.TryParse(Parse(buffer[..length]), out var remb));
        Assert.True(remb.Bitrate <= bitrate);
        Assert.True(bitrate - remb.Bitrate <= bitrate / 131_072, $"{bitrate} came back as {remb.Bitrate}");
    }

    [Fact]
    public void Remb_with_the_largest_exponent_saturates_instead_of_overflowing()
    {
        byte[] bytes = [143, 206, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 82, 69, 77, 66, 0, 255, 255, 255];
        Assert.True(RtcpRemb.TryParse(Parse(bytes), out var remb));
        Assert.Equal(ulong.MaxValue, remb.Bitrate);
    }
}
