using Webinar.Connector.Client;

namespace Webinar.Connector.Tests.Client;

/// <summary>
/// The counts a load run's delivery and loss come from: distinct media packets, repeats, padding and sequence gaps of
/// one received stream, whatever order the packets arrive in.
/// </summary>
public sealed class ReceivedStatsTests
{
    private static ReceivedStats Stream() => new(0x1234, track: null);

    private static void Receive(ReceivedStats stats, int sequenceNumber, bool padding = false) =>
        stats.OnPacket((ushort)sequenceNumber, 0, padding ? 0 : 1000, keyframe: false, arrivalMicros: 0, padding);

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(65_400)] // wraps after 136 packets
    [InlineData(65_535)]
    public void A_stream_in_order_has_every_packet_delivered_once_and_none_lost(int first)
    {
        var stats = Stream();
        for (int i = 0; i < 3000; i++)
        {
            Receive(stats, first + i);
        }

        Assert.Equal(3000, stats.Packets);
        Assert.Equal(0, stats.Duplicates);
        Assert.Equal(3000, stats.Expected);
        Assert.Equal(0, stats.Lost);
    }

    [Fact]
    public void A_gap_is_lost_until_its_retransmission_fills_it_and_a_repeat_is_a_duplicate_not_a_delivery()
    {
        var stats = Stream();
        for (int i = 0; i < 100; i++)
        {
            if (i != 40)
            {
                Receive(stats, i);
            }
        }

        Assert.Equal(1, stats.Lost);
        Receive(stats, 40);
        Receive(stats, 41); // arrived already: a retransmission of a packet that was late, not lost
        Assert.Equal(0, stats.Lost);
        Assert.Equal(101, stats.Packets);
        Assert.Equal(1, stats.Duplicates);
        Assert.Equal(100, stats.Packets - stats.Duplicates);
    }

    [Fact]
    public void Padding_probes_take_sequence_numbers_without_being_lost_or_delivered_media()
    {
        // The node probes a subscriber's downlink with padding-only packets on the video SSRC's next sequence numbers.
        var stats = Stream();
        int sequenceNumber = 500;
        for (int frame = 0; frame < 200; frame++)
        {
            for (int packet = 0; packet < 6; packet++)
            {
                Receive(stats, sequenceNumber++);
            }

            if (frame % 4 == 0)
            {
                Receive(stats, sequenceNumber++, padding: true);
                Receive(stats, sequenceNumber++, padding: true);
            }
        }

        Assert.Equal(1200, stats.Packets);
        Assert.Equal(100, stats.PaddingPackets);
        Assert.Equal(1300, stats.Expected);
        Assert.Equal(0, stats.Lost);
    }

    [Fact]
    public void Two_late_packets_in_a_row_far_behind_do_not_restart_the_count()
    {
        // RFC 3550 A.1 takes two consecutive packets far out of order for a restarted source; the report statistics
        // do, and the counts once followed them: the loss of everything before fell to zero.
        var stats = Stream();
        for (int i = 0; i < 1000; i++)
        {
            if (i is not (500 or 501 or 900))
            {
                Receive(stats, i);
            }
        }

        Assert.Equal(3, stats.Lost);
        Receive(stats, 500); // 499 behind the highest
        Receive(stats, 501);
        Assert.Equal(1, stats.Lost);
        for (int i = 1000; i < 1100; i++)
        {
            Receive(stats, i);
        }

        Assert.Equal(1100, stats.Expected);
        Assert.Equal(1, stats.Lost);
        Assert.Equal(1099, stats.Packets - stats.Duplicates);
    }

    [Fact]
    public void A_packet_reordered_before_the_first_one_extends_the_stream_instead_of_counting_as_lost_or_repeated()
    {
        var stats = Stream();
        Receive(stats, 10);
        Receive(stats, 12);
        Receive(stats, 9);
        Receive(stats, 11);
        Assert.Equal(4, stats.Expected);
        Assert.Equal(0, stats.Lost);
        Assert.Equal(0, stats.Duplicates);
    }

    [Fact]
    public void Counts_over_a_window_are_the_differences_of_the_cumulative_ones()
    {
        // What a load run does: read at the window's start and end while packets keep arriving.
        var stats = Stream();
        for (int i = 0; i < 2000; i++)
        {
            Receive(stats, i * 7 % 3 == 0 && i % 50 == 0 ? i + 1 : i); // now and then a repeat where a packet went missing
        }

        long packets = stats.Packets - stats.Duplicates, lost = stats.Lost;
        for (int i = 2000; i < 4000; i++)
        {
            if (i % 100 != 0)
            {
                Receive(stats, i);
            }
        }

        Assert.Equal(1980, stats.Packets - stats.Duplicates - packets);
        Assert.Equal(20, stats.Lost - lost);
    }
}
