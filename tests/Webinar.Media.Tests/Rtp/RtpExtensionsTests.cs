using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class RtpExtensionsTests
{
    [Theory]
    [InlineData(0L, 0u)]
    [InlineData(1_000_000L, 0x040000u)]          // 1 s = 1 << 18
    [InlineData(500_000L, 0x020000u)]            // 0.5 s
    [InlineData(63_999_997L, 0xFFFFFFu)]         // just under the 64 s wrap
    [InlineData(64_000_000L, 0u)]                // wraps every 64 s
    public void Abs_send_time_is_6_18_fixed_point_seconds(long micros, uint expected)
    {
        Assert.Equal(expected, RtpExtensions.AbsSendTimeFromMicroseconds(micros));
    }

    [Fact]
    public void Typed_values_round_trip_through_a_built_packet()
    {
        var buffer = new byte[100];
        var writer = new RtpPacketWriter(buffer, false, 111, 10, 20, 30);
        Span<byte> abs = stackalloc byte[3];
        Span<byte> twcc = stackalloc byte[2];
        Assert.True(RtpExtensions.TryWriteAbsSendTime(abs, 0xABCDEF));
        Assert.True(RtpExtensions.TryWriteTransportSequenceNumber(twcc, 0xFFFE));
        writer.SetExtension(1, "0"u8);
        writer.SetExtension(2, abs);
        writer.SetExtension(3, twcc);
        writer.SetExtension(4, [RtpExtensions.EncodeAudioLevel(true, 42)]);
        Assert.True(writer.TryComplete([0xF8, 0xFF, 0xFE], out int length));

        Assert.True(RtpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(packet.TryGetExtension(1, out var mid));
        Assert.True(RtpExtensions.MidEquals(mid, "0"));
        Assert.False(RtpExtensions.MidEquals(mid, "1"));
        Assert.True(packet.TryGetAbsSendTime(2, out uint absSendTime));
        Assert.Equal(0xABCDEFu, absSendTime);
        Assert.True(packet.TryGetTransportSequenceNumber(3, out ushort sequence));
        Assert.Equal(0xFFFE, sequence);
        Assert.True(packet.TryGetAudioLevel(4, out bool voice, out byte level));
        Assert.True(voice);
        Assert.Equal(42, level);

        Assert.True(packet.TrySetTransportSequenceNumber(3, 7));
        Assert.True(packet.TrySetAbsSendTime(2, 0x000102));
        Assert.True(packet.TryGetTransportSequenceNumber(3, out sequence));
        Assert.Equal(7, sequence);
        Assert.True(packet.TryGetAbsSendTime(2, out absSendTime));
        Assert.Equal(0x000102u, absSendTime);
    }

    [Fact]
    public void Values_of_the_wrong_length_are_rejected()
    {
        Assert.False(RtpExtensions.TryReadAbsSendTime([1, 2], out _));
        Assert.False(RtpExtensions.TryReadTransportSequenceNumber([1, 2, 3], out _));
        Assert.False(RtpExtensions.TryReadAudioLevel([], out _, out _));
        Assert.False(RtpExtensions.TryWriteTransportSequenceNumber(new byte[3], 1));
    }

    [Fact]
    public void Audio_level_without_voice_activity_is_decoded()
    {
        Assert.True(RtpExtensions.TryReadAudioLevel([0x7F], out bool voice, out byte level));
        Assert.False(voice);
        Assert.Equal(127, level);
    }
}
