using Microsoft.Extensions.Time.Testing;
using FsCheck;
using FsCheck.Fluent;
using Webinar.Media.Rtcp;
using Webinar.Media.Tests.Rtp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class NackGeneratorTests
{
    [Fact]
    public void Gaps_are_nacked_at_once_then_retried_after_the_rtt_and_given_up_after_the_limit()
    {
        var time = new FakeTimeProvider();
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
    public void A_retransmission_is_news_only_for_a_number_still_missing_or_beyond_the_highest()
    {
        var generator = new NackGenerator(new FakeTimeProvider());
        generator.OnPacket(65534);
        generator.OnPacket(2); // 65535, 0 and 1 missing, across the wrap
        Assert.Equal(3, generator.MissingCount);

        Assert.True(generator.OnRecovered(0));       // filled a hole
        Assert.False(generator.OnRecovered(0));      // the same again: a duplicate
        Assert.False(generator.OnRecovered(65534));  // had it already
        Assert.False(generator.OnRecovered(2));
        Assert.Equal(2, generator.MissingCount);
        Assert.True(generator.OnRecovered(4));       // newer than anything seen: news, and 3 is missing now
        Assert.Equal(3, generator.MissingCount);
    }

    [Fact]
    public void Builds_a_nack_packet_for_what_is_due()
    {
        var generator = new NackGenerator(new FakeTimeProvider());
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
        var generator = new NackGenerator(new FakeTimeProvider(), capacity: 100);
        Assert.False(generator.OnPacket(0));
        Assert.False(generator.OnPacket(50));
        Assert.True(generator.OnPacket(1000));
        Assert.Equal(0, generator.MissingCount);
    }

    [Fact]
    public void Missing_packets_older_than_the_age_limit_are_forgotten()
    {
        var generator = new NackGenerator(new FakeTimeProvider(), capacity: 100, maxAgePackets: 20);
        generator.OnPacket(0);
        generator.OnPacket(2); // 1 missing
        for (ushort s = 3; s < 30; s++)
        {
            generator.OnPacket(s);
        }

        Assert.Equal(0, generator.MissingCount);
    }
    [Fact]
    public async Task A_publisher_jumping_its_sequence_numbers_past_a_full_list_costs_one_write_per_skipped_number()
    {
        // The old list shifted every entry to drop its oldest: a full list of 65,536 and a jump of 30,000 meant
        // 30,000 x 65,536 moves per packet, minutes for these ten packets. A ring drops the oldest in O(1).
        var generator = new NackGenerator(new FakeTimeProvider(), capacity: 65_536, maxAgePackets: int.MaxValue);
        var run = Task.Run(() =>
        {
            var overflowed = false;
            generator.OnPacket(0);
            for (var jump = 1; jump <= 10; jump++)
            {
                overflowed |= generator.OnPacket(unchecked((ushort)(jump * 30_000)));
            }

            return overflowed;
        });

        var overflowed = await run.WaitAsync(TimeSpan.FromSeconds(60)); // throws TimeoutException when stuck
        Assert.True(overflowed, "dropping still-missing packets was not reported");
        Assert.Equal(65_536, generator.MissingCount);
        var due = new ushort[2];
        Assert.Equal(2, generator.CollectDue(due));
        // The newest 65,536 missing numbers below 300,000 are kept (270,000 and 240,000 arrived, so they are not among them).
        Assert.Equal(unchecked((ushort)(300_000 - 65_536 - 2)), due[0]);
    }

    [Fact]
    public void Nacks_only_numbers_that_never_arrived_in_order_and_exactly_the_model_when_nothing_arrives_late()
    {
        Prop.ForAll(Arb.From(Gen.ListOf(Gen.Choose(-40, 120)).Select(l => l.ToArray())), steps =>
        {
            const int capacity = 64, maxAge = 200;
            var generator = new NackGenerator(new FakeTimeProvider(), maxRetries: 1000, capacity: capacity, maxAgePackets: maxAge);
            var model = new SortedSet<long>(); // what a plain list of capacity live entries would hold
            var arrived = new HashSet<long> { 1000 };
            var late = false;
            long highest = 1000;
            generator.OnPacket(1000);
            foreach (var step in steps)
            {
                long next = highest + step;
                generator.OnPacket(unchecked((ushort)next));
                arrived.Add(next);
                if (next <= highest)
                {
                    late |= model.Remove(next);
                    continue;
                }

                if (next - highest - 1 > capacity)
                {
                    model.Clear();
                }
                else
                {
                    for (var s = highest + 1; s < next; s++)
                    {
                        if (model.Count == capacity)
                        {
                            model.Remove(model.Min);
                        }

                        model.Add(s);
                    }
                }

                highest = next;
                model.RemoveWhere(s => highest - s > maxAge);
            }

            var due = new ushort[capacity + 1];
            var written = generator.CollectDue(due);
            var reported = due.AsSpan(0, written).ToArray();
            var expected = model.Select(s => unchecked((ushort)s)).ToArray();
            var truthful = reported.All(r => !arrived.Contains(r) && highest - r <= maxAge && r < highest);
            return written <= capacity && generator.MissingCount == written && truthful
                && reported.Distinct().Count() == written
                && (late || reported.SequenceEqual(expected));
        }).QuickCheckThrowOnFailure();
    }
}

public sealed class KeyframeRequesterTests
{
    [Fact]
    public void Requests_from_many_consumers_coalesce_into_one_per_interval_per_ssrc()
    {
        var time = new FakeTimeProvider();
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
        var requester = new KeyframeRequester(new FakeTimeProvider());
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
