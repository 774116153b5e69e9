using Webinar.Media.Rtcp;
using Webinar.Sfu.Media.Bandwidth;

namespace Webinar.Sfu.Tests.Media.Bandwidth;

/// <summary>
/// The estimator against a simulated bottleneck: the sender sends what the estimate allows (up to a demand), the link
/// serialises packets at its capacity behind a bounded queue (as tc tbf does) and the receiver's transport-wide feedback
/// comes back every 100 ms, written with the real feedback writer.
/// </summary>
public sealed class BandwidthEstimatorTests
{
    private const int PacketBytes = 1200;

    private sealed class Link(long capacityBps, long maxQueueMicros, double randomLoss = 0, int seed = 1)
    {
        private readonly Random _random = new(seed);
        private long _free;

        /// <summary>Arrival time in µs, or null when dropped.</summary>
        public long? Carry(long sendMicros, int bytes)
        {
            if (_random.NextDouble() < randomLoss)
            {
                return null;
            }

            var start = Math.Max(sendMicros, _free);
            if (start - sendMicros > maxQueueMicros)
            {
                return null;
            }

            _free = start + (bytes * 8L * 1_000_000 / capacityBps);
            return _free + 20_000;
        }
    }

    /// <summary>Runs the loop for <paramref name="seconds"/>; returns the estimates seen each second.</summary>
    private static List<long> Run(BandwidthEstimator estimator, Link link, long demandBps, int seconds, ref long now)
    {
        var estimates = new List<long>();
        var pending = new List<(ushort Seq, long? Arrival)>();
        long nextSend = now, nextFeedback = now + 100_000, nextSecond = now + 1_000_000;
        var end = now + (seconds * 1_000_000L);
        byte feedbackCount = 0;
        while (now < end)
        {
            now += 1_000;
            var rate = Math.Min(demandBps, estimator.Estimate);
            while (nextSend <= now)
            {
                var seq = estimator.History.OnSent(PacketBytes, nextSend);
                pending.Add((seq, link.Carry(nextSend, PacketBytes)));
                nextSend += PacketBytes * 8L * 1_000_000 / rate;
            }

            if (now >= nextFeedback)
            {
                nextFeedback += 100_000;
                var cutoff = now;
                var arrived = pending.Where(p => p.Arrival is null || p.Arrival <= cutoff).ToList();
                if (arrived.Count > 0 && arrived.Any(p => p.Arrival is not null))
                {
                    Deliver(estimator, arrived, feedbackCount++, now);
                    pending.RemoveAll(arrived.Contains);
                }
            }

            if (now >= nextSecond)
            {
                nextSecond += 1_000_000;
                estimates.Add(estimator.Estimate);
            }
        }

        return estimates;
    }

    private static void Deliver(BandwidthEstimator estimator, List<(ushort Seq, long? Arrival)> packets, byte count, long now)
    {
        var buffer = new byte[4096];
        var firstArrival = packets.Where(p => p.Arrival is not null).Min(p => p.Arrival!.Value);
        var reference = (int)(firstArrival / 64_000);
        var writer = new TransportFeedbackWriter(buffer, new byte[4096], 1, 2, packets[0].Seq, reference, count);
        long previous = reference * 64_000L;
        foreach (var (_, arrival) in packets)
        {
            if (arrival is null)
            {
                Assert.True(writer.TryAddMissing());
                continue;
            }

            var ticks = (int)((arrival.Value - previous) / 250);
            Assert.True(writer.TryAddReceived(ticks));
            previous += ticks * 250L;
        }

        Assert.True(writer.TryComplete(out var length));
        var reader = new RtcpCompoundReader(buffer.AsSpan(0, length));
        Assert.True(reader.TryReadNext(out var packet));
        Assert.True(RtcpTransportFeedback.TryParse(packet, out var feedback));
        estimator.OnFeedback(feedback, now);
    }

    [Fact]
    public void A_narrow_link_brings_the_estimate_down_to_its_capacity()
    {
        var estimator = new BandwidthEstimator(new BandwidthOptions { InitialBitrate = 2_000_000 });
        long now = 0;

        var estimates = Run(estimator, new Link(400_000, 200_000), demandBps: 3_000_000, seconds: 20, ref now);

        var settled = estimates.Skip(10).ToList();
        Assert.All(settled, e => Assert.InRange(e, 100_000, 600_000));
        Assert.True(estimator.HasSeenHeavyLoss);
    }

    [Fact]
    public void A_wide_link_keeps_the_estimate_above_what_is_sent()
    {
        var estimator = new BandwidthEstimator(new BandwidthOptions { InitialBitrate = 600_000 });
        long now = 0;

        var estimates = Run(estimator, new Link(10_000_000, 200_000), demandBps: 500_000, seconds: 15, ref now);

        Assert.All(estimates, e => Assert.True(e >= 500_000, $"estimate fell to {e} on an idle 10 Mbit/s link"));
        Assert.Equal(BandwidthUsage.Normal, estimator.Usage);
        Assert.False(estimator.HasSeenHeavyLoss);
    }

    [Fact]
    public void Heavy_random_loss_lowers_the_estimate()
    {
        var estimator = new BandwidthEstimator(new BandwidthOptions { InitialBitrate = 1_000_000 });
        long now = 0;

        var estimates = Run(estimator, new Link(10_000_000, 200_000, randomLoss: 0.3), demandBps: 1_000_000, seconds: 10, ref now);

        Assert.True(estimator.LossFraction > 0.2);
        Assert.True(estimates[^1] < 500_000, $"estimate {estimates[^1]} after 30 % loss");
    }

    [Fact]
    public void After_the_link_narrows_and_widens_again_a_probe_lifts_the_estimate()
    {
        var estimator = new BandwidthEstimator(new BandwidthOptions { InitialBitrate = 1_000_000 });
        long now = 0;
        Run(estimator, new Link(100_000, 200_000), demandBps: 1_000_000, seconds: 10, ref now);
        var low = estimator.Estimate;
        Assert.True(low < 200_000, $"estimate {low} on a 100 kbit/s link");

        // The link widens; the sender only sends what the low estimate allows, then probes at 1.5 Mbit/s.
        var wide = new Link(10_000_000, 200_000);
        Run(estimator, wide, demandBps: low, seconds: 2, ref now);
        estimator.StartProbe(now, 600_000);
        Run(estimator, wide, demandBps: 1_500_000, seconds: 1, ref now);
        Run(estimator, wide, demandBps: low, seconds: 1, ref now);

        Assert.True(estimator.Estimate > 3 * low, $"estimate {estimator.Estimate} after a probe (was {low})");
    }

    [Fact]
    public void Feedback_for_packets_never_sent_is_ignored()
    {
        var estimator = new BandwidthEstimator(new BandwidthOptions());
        var before = estimator.Estimate;

        Deliver(estimator, [(5000, 1_000), (5001, null), (5002, 3_000)], 0, 10_000);

        Assert.Equal(before, estimator.Estimate);
        Assert.Equal(1, estimator.FeedbackCount);
    }
}
