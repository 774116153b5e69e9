using Webinar.Media.Rtcp;
using Webinar.Media.Tests.Rtp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class NackGeneratorTests
{
    [Fact]
    public void Gaps_are_nacked_at_once_then_retried_after_the_rtt_and_given_up_after_the_limit()
    {
        var time = new ManualTimeProvider();
        var generator = new NackGenerator(time, maxRetries: 3) { RoundTripTime = TimeSpan.FromMilliseconds(50) };
        Span<ushort> due = stackalloc ushort[16];
        generator.OnPacket(65533);
        generator.OnPacket(1); // 65534, 65535, 0 missing across the wrap
        Assert.Equal(3, generator.CollectDue(due));
        Assert.Equal(new ushort[] { 65534, 65535, 0 }, due[..3].ToArray());

        Assert.Equal(0, generator.CollectDue(due)); // too soon
        time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(0, generator.CollectDue(due));
        generator.OnPacket(65535); // retransmission arrives
        time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(2, generator.CollectDue(due));
        Assert.Equal(new ushort[] { 65534, 0 }, due[..2].ToArray());
        time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Equal(2, generator.CollectDue(due)); // third and last try
        time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Equal(0, generator.CollectDue(due));
        Assert.Equal(0, generator.MissingCount);
    }

    [Fact]
    public void Builds_a_nack_packet_for_what_is_due()
    {
        var generator = new NackGenerator(new ManualTimeProvider());
        generator.OnPacket(10);
        generator.OnPacket(13);
        var buffer = new byte[64];
        Assert.True(generator.TryBuildNack(buffer, 1, 2, out int length));
        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpGenericNack.TryParse(packet, out var nack));
        Span<ushort> lost = stackalloc ushort[8];
        Assert.Equal(new ushort[] { 11, 12 }, lost[..nack.GetLostSequenceNumbers(lost)].ToArray());
        Assert.False(generator.TryBuildNack(buffer, 1, 2, out _));
    }

    [Fact]
    public void A_gap_too_large_to_track_asks_for_a_keyframe()
    {
        var generator = new NackGenerator(new ManualTimeProvider(), capacity: 100);
        Assert.False(generator.OnPacket(0));
        Assert.False(generator.OnPacket(50));
        Assert.True(generator.OnPacket(1000));
        Assert.Equal(0, generator.MissingCount);
    }

    [Fact]
    public void Missing_packets_older_than_the_age_limit_are_forgotten()
    {
        var generator = new NackGenerator(new ManualTimeProvider(), capacity: 100, maxAgePackets: 20);
        generator.OnPacket(0);
        generator.OnPacket(2); // 1 missing
        for (ushort s = 3; s < 30; s++)
        {
            generator.OnPacket(s);
        }

        Assert.Equal(0, generator.MissingCount);
    }
}

public sealed class KeyframeRequesterTests
{
    [Fact]
    public void Requests_from_many_consumers_coalesce_into_one_per_interval_per_ssrc()
    {
        var time = new ManualTimeProvider();
        var requester = new KeyframeRequester(time);
        Span<uint> due = stackalloc uint[8];
        Assert.True(requester.Request(100));
        Assert.True(requester.Request(200)); // another producer is independent
        Assert.False(requester.Request(100));
        Assert.False(requester.Request(100));
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Equal(0, requester.CollectDue(due));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, requester.CollectDue(due));
        Assert.Equal(100u, due[0]);
        Assert.Equal(0, requester.CollectDue(due)); // already sent
        Assert.False(requester.Request(100));       // inside the new interval
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True(requester.Request(200));
    }

    [Fact]
    public void Fir_requests_carry_an_increasing_sequence_number_per_ssrc()
    {
        var requester = new KeyframeRequester(new ManualTimeProvider());
        var buffer = new byte[32];
        for (byte expected = 0; expected < 3; expected++)
        {
            Assert.True(requester.TryWriteRequest(buffer, 1, 77, KeyframeRequestKind.FullIntraRequest, out int length));
            Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
            Assert.True(RtcpFullIntraRequest.TryParse(packet, out var fir));
            fir.GetEntry(0, out uint ssrc, out byte seq);
            Assert.Equal((77u, expected), (ssrc, seq));
        }

        Assert.True(requester.TryWriteRequest(buffer, 1, 77, KeyframeRequestKind.PictureLossIndication, out int pliLength));
        Assert.Equal(RtcpPictureLossIndication.Length, pliLength);
        Assert.True(requester.Request(77)); // writing a FIR does not count as a rate-limited request
    }
}
