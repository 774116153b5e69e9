using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class RtpReceiveStatisticsTests
{
    [Fact]
    public void Counts_loss_and_fraction_per_interval_across_the_wrap()
    {
        var stats = new RtpReceiveStatistics(42, 90000);
        ushort seq = 65530;
        for (int i = 0; i < 10; i++, seq++)
        {
            if (i is 3 or 4)
            {
                continue; // 65533 and 65534 lost
            }

            stats.OnPacket(seq, (uint)(i * 3000), i * 33_333);
        }

        Assert.Equal((1u << 16) | 3, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(2, stats.CumulativeLost);
        var block = stats.CreateReportBlock(400_000);
        Assert.Equal(42u, block.Ssrc);
        Assert.Equal(2, block.CumulativeLost);
        Assert.Equal(51, block.FractionLost); // 2/10 * 256
        Assert.Equal((1u << 16) | 3, block.ExtendedHighestSequenceNumber);

        // Next interval without loss reports fraction 0; a reordered and a duplicate packet change nothing else.
        stats.OnPacket(4, 30000, 400_000);
        stats.OnPacket(65534, 12000, 410_000);
        Assert.Equal(1, stats.CumulativeLost);
        var second = stats.CreateReportBlock(500_000);
        Assert.Equal(0, second.FractionLost);
    }

    [Fact]
    public void Jitter_is_zero_for_perfect_pacing_and_grows_with_variation()
    {
        var steady = new RtpReceiveStatistics(1, 90000);
        var shaky = new RtpReceiveStatistics(2, 90000);
        for (int i = 0; i < 100; i++)
        {
            steady.OnPacket((ushort)i, (uint)(i * 3000), i * 33_333L + (i / 3));
            shaky.OnPacket((ushort)i, (uint)(i * 3000), (i * 33_333L) + (i % 2 == 0 ? 0 : 10_000));
        }

        Assert.True(steady.Jitter <= 1, $"steady jitter {steady.Jitter}");
        // Transit alternates by 10 ms = 900 ticks; the estimator converges towards 900.
        Assert.InRange(shaky.Jitter, 800u, 900u);
    }

    [Fact]
    public void Report_block_carries_lsr_and_dlsr_in_65536ths_of_a_second()
    {
        var stats = new RtpReceiveStatistics(3, 48000);
        stats.OnPacket(1, 960, 0);
        stats.OnSenderReport(0x1122_3344_5566_7788UL, 1_000_000);
        var block = stats.CreateReportBlock(1_500_000);
        Assert.Equal(0x3344_5566u, block.LastSenderReport);
        Assert.Equal(32768u, block.DelaySinceLastSenderReport);
    }

    [Fact]
    public void A_confirmed_large_jump_restarts_the_statistics()
    {
        var stats = new RtpReceiveStatistics(4, 90000);
        for (ushort s = 0; s < 10; s++)
        {
            stats.OnPacket(s, s * 3000u, s * 1000L);
        }

        stats.OnPacket(40000, 0, 20_000);
        Assert.Equal(10, stats.PacketsReceived); // not yet believed
        stats.OnPacket(40001, 3000, 21_000);
        Assert.Equal(1, stats.PacketsReceived);
        Assert.Equal(40001u, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(0, stats.CumulativeLost);
    }
}

public sealed class RtpPacketCacheTests
{
    [Fact]
    public void Returns_stored_packets_until_overwritten()
    {
        using var cache = new RtpPacketCache(4);
        for (int i = 0; i < 6; i++)
        {
            ushort seq = (ushort)(65533 + i);
            Assert.True(cache.Store(seq, [(byte)i, 1, 2]));
        }

        Assert.False(cache.TryGet(65533, out _)); // overwritten by 1
        Assert.False(cache.TryGet(65534, out _));
        Assert.True(cache.TryGet(65535, out var packet));
        Assert.Equal(new byte[] { 2, 1, 2 }, packet.ToArray());
        Assert.True(cache.TryGet(2, out packet));
        Assert.Equal(new byte[] { 5, 1, 2 }, packet.ToArray());
        Assert.False(cache.TryGet(3, out _));
    }

    [Fact]
    public void Refuses_oversized_packets_and_lookups_after_dispose()
    {
        var cache = new RtpPacketCache(8);
        Assert.False(cache.Store(1, new byte[RtpPacketCache.MaxPacketLength + 1]));
        Assert.True(cache.Store(1, [9]));
        cache.Dispose();
        Assert.False(cache.TryGet(1, out _));
        Assert.False(cache.Store(2, [9]));
    }
}
