using Webinar.Media.Rtcp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class TransportFeedbackRecorderTests
{
    private static List<List<TransportFeedbackEntry>> Drain(TransportFeedbackRecorder recorder, int bufferLength = 1500)
    {
        var result = new List<List<TransportFeedbackEntry>>();
        var buffer = new byte[bufferLength];
        while (recorder.TryBuildFeedback(buffer, 0x1234, 0x5678, out int length))
        {
            Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
            Assert.True(RtcpTransportFeedback.TryParse(packet, out var feedback));
            Assert.Equal(0x1234u, feedback.SenderSsrc);
            Assert.Equal(0x5678u, feedback.MediaSsrc);
            var entries = new List<TransportFeedbackEntry>();
            foreach (var entry in feedback)
            {
                entries.Add(entry);
            }

            result.Add(entries);
        }

        return result;
    }

    [Fact]
    public void Reports_arrivals_and_missing_packets_with_arrival_times_to_250_microseconds()
    {
        var recorder = new TransportFeedbackRecorder();
        long t0 = 10_000_000;
        recorder.OnPacket(100, t0);
        recorder.OnPacket(101, t0 + 5_000);
        recorder.OnPacket(103, t0 + 12_345); // 102 lost
        recorder.OnPacket(104, t0 + 100_000);

        var feedback = Assert.Single(Drain(recorder));
        Assert.Equal(5, feedback.Count);
        Assert.Equal([100, 101, 102, 103, 104], feedback.ConvertAll(e => (int)e.SequenceNumber));
        Assert.False(feedback[2].Received);
        long[] arrivals = [t0, t0 + 5_000, 0, t0 + 12_345, t0 + 100_000];
        for (int i = 0; i < 5; i++)
        {
            if (i == 2)
            {
                continue;
            }

            Assert.InRange(arrivals[i] - feedback[i].ReceiveTimeMicros, 0, 249);
        }

        Assert.Equal(TransportFeedbackStatus.ReceivedLargeDelta, feedback[4].Status); // 87.5 ms > 63.75 ms
        Assert.Empty(Drain(recorder));
    }

    [Fact]
    public void Each_feedback_covers_what_arrived_since_the_previous_one_and_counts_up()
    {
        var recorder = new TransportFeedbackRecorder();
        var buffer = new byte[1500];
        recorder.OnPacket(65534, 1_000);
        recorder.OnPacket(65535, 2_000);
        Assert.True(recorder.TryBuildFeedback(buffer, 1, 2, out int length));
        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.True(RtcpTransportFeedback.TryParse(packet, out var first));
        Assert.Equal((65534, 2, 0), (first.BaseSequenceNumber, first.PacketStatusCount, first.FeedbackPacketCount));

        recorder.OnPacket(0, 3_000); // wraps
        recorder.OnPacket(2, 4_000);
        Assert.True(recorder.TryBuildFeedback(buffer, 1, 2, out length));
        Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out packet));
        Assert.True(RtcpTransportFeedback.TryParse(packet, out var second));
        Assert.Equal((0, 3, 1), (second.BaseSequenceNumber, second.PacketStatusCount, second.FeedbackPacketCount));
        Assert.False(recorder.TryBuildFeedback(buffer, 1, 2, out _));
    }

    [Fact]
    public void A_late_packet_from_an_earlier_feedback_is_reported_again()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(10, 1_000);
        recorder.OnPacket(12, 3_000);
        Assert.Single(Drain(recorder));
        recorder.OnPacket(11, 9_000);
        recorder.OnPacket(13, 10_000);
        var again = Assert.Single(Drain(recorder));
        Assert.Equal([11, 12, 13], again.ConvertAll(e => (int)e.SequenceNumber));
        Assert.All(again, e => Assert.True(e.Received));
    }

    [Fact]
    public void A_pause_longer_than_a_16_bit_delta_starts_a_new_base()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(1, 1_000_000);
        recorder.OnPacket(2, 1_010_000);
        recorder.OnPacket(3, 11_000_000); // 10 s later: more than 8.19 s of 250 µs ticks
        recorder.OnPacket(4, 11_001_000);
        var feedbacks = Drain(recorder);
        Assert.Equal(2, feedbacks.Count);
        Assert.Equal([1, 2], feedbacks[0].ConvertAll(e => (int)e.SequenceNumber));
        Assert.Equal([3, 4], feedbacks[1].ConvertAll(e => (int)e.SequenceNumber));
        Assert.InRange(11_000_000 - feedbacks[1][0].ReceiveTimeMicros, 0, 249);
    }

    [Fact]
    public void Many_packets_split_into_feedbacks_that_fit_and_lose_nothing()
    {
        var recorder = new TransportFeedbackRecorder();
        for (int i = 0; i < 3000; i++)
        {
            recorder.OnPacket((ushort)(60000 + i), 5_000_000 + (i * 1_000L) + (i % 7 * 300));
        }

        var feedbacks = Drain(recorder);
        Assert.True(feedbacks.Count > 1);
        int expected = 60000;
        foreach (var feedback in feedbacks)
        {
            foreach (var entry in feedback)
            {
                Assert.Equal((ushort)expected++, entry.SequenceNumber);
                Assert.True(entry.Received);
            }
        }

        Assert.Equal(63000, expected);
    }

    [Fact]
    public void A_huge_sequence_jump_reports_a_bounded_window()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(0, 1_000);
        recorder.OnPacket(30000, 2_000);
        var feedbacks = Drain(recorder);
        int total = 0;
        foreach (var feedback in feedbacks)
        {
            total += feedback.Count;
        }

        Assert.InRange(total, 1, 16384);
        Assert.Equal(30000, feedbacks[^1][^1].SequenceNumber);
    }

    [Fact]
    public void Nothing_to_report_builds_nothing()
    {
        var recorder = new TransportFeedbackRecorder();
        Assert.False(recorder.TryBuildFeedback(new byte[1500], 1, 2, out _));
        recorder.OnPacket(1, 1);
        Assert.False(recorder.TryBuildFeedback(new byte[10], 1, 2, out _));
    }

    [Fact]
    public void A_jump_of_thousands_of_numbers_starts_the_next_feedback_at_the_new_packet()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(100, 1_000);
        recorder.OnPacket(101, 2_000);
        Assert.Single(Drain(recorder));

        recorder.OnPacket(102, 3_000);
        recorder.OnPacket((ushort)(102 + TransportFeedbackRecorder.MaxGap + 1), 4_000);
        recorder.OnPacket(103, 5_000); // late, from before the jump: not worth reporting the gap for

        var feedback = Assert.Single(Drain(recorder));
        Assert.Equal([102 + TransportFeedbackRecorder.MaxGap + 1], feedback.ConvertAll(e => (int)e.SequenceNumber));
        Assert.Equal(1, recorder.Resets);
    }

    [Fact]
    public void A_gap_within_the_limit_is_still_reported_as_missing_packets()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(0, 1_000);
        recorder.OnPacket((ushort)TransportFeedbackRecorder.MaxGap, 2_000);

        var entries = Drain(recorder).SelectMany(f => f).ToList();
        Assert.Equal(TransportFeedbackRecorder.MaxGap + 1, entries.Count);
        Assert.Equal(2, entries.Count(e => e.Received));
        Assert.Equal(0, recorder.Resets);
    }
}
