using System.Buffers;
using Microsoft.Extensions.Time.Testing;
using Webinar.Connector.Subscribing;

namespace Webinar.Connector.Tests.Subscribing;

/// <summary>
/// What the decoder of a subscriber gets from a stream whose packets arrive out of order or go missing: every packet
/// in order, a hole waited for until the repair wait ends (so a retransmission can fill it), then given up.
/// </summary>
public sealed class RtpReorderBufferTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(200);
    private readonly FakeTimeProvider _time = new();

    private static byte[] Packet(int sequenceNumber)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(12);
        buffer[0] = 0x80;
        buffer[2] = (byte)(sequenceNumber >> 8);
        buffer[3] = (byte)sequenceNumber;
        return buffer;
    }

    private static bool Push(RtpReorderBuffer reorder, int sequenceNumber)
    {
        var buffer = Packet(sequenceNumber);
        bool taken = reorder.Push(buffer, 12, (ushort)sequenceNumber);
        if (!taken)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return taken;
    }

    private static List<int> PopAll(RtpReorderBuffer reorder)
    {
        var popped = new List<int>();
        while (reorder.TryPop(out var buffer, out int length))
        {
            Assert.Equal(12, length);
            popped.Add((buffer[2] << 8) | buffer[3]);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return popped;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65_530)] // wraps
    public void Packets_in_order_come_out_at_once(int first)
    {
        using var reorder = new RtpReorderBuffer(Wait, _time);
        var popped = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            Assert.True(Push(reorder, (first + i) & 0xFFFF));
            popped.AddRange(PopAll(reorder));
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (first + i) & 0xFFFF), popped);
        Assert.Equal(0, reorder.Held);
        Assert.Equal(0, reorder.Skipped);
        Assert.Null(reorder.TimeUntilReady());
    }

    [Fact]
    public void A_hole_holds_the_packets_after_it_until_the_retransmission_fills_it_then_all_come_out_in_order()
    {
        using var reorder = new RtpReorderBuffer(Wait, _time);
        Push(reorder, 10);
        Assert.Equal([10], PopAll(reorder));
        Push(reorder, 12);
        Push(reorder, 13);
        Assert.Empty(PopAll(reorder));
        Assert.Equal(2, reorder.Held);
        Assert.Equal(Wait, reorder.TimeUntilReady());

        _time.Advance(TimeSpan.FromMilliseconds(120)); // the NACK's round trip
        Assert.True(Push(reorder, 11));
        Assert.Equal([11, 12, 13], PopAll(reorder));
        Assert.Equal(1, reorder.Repaired);
        Assert.Equal(0, reorder.Skipped);
    }

    [Fact]
    public void A_hole_not_filled_within_the_wait_is_given_up_and_its_retransmission_refused_as_late()
    {
        using var reorder = new RtpReorderBuffer(Wait, _time);
        Push(reorder, 1);
        PopAll(reorder);
        Push(reorder, 4);
        _time.Advance(TimeSpan.FromMilliseconds(150));
        Push(reorder, 5);
        Assert.Empty(PopAll(reorder));
        Assert.Equal(TimeSpan.FromMilliseconds(50), reorder.TimeUntilReady());

        _time.Advance(TimeSpan.FromMilliseconds(50)); // the wait counts from packet 4, the first after the hole
        Assert.Equal(TimeSpan.Zero, reorder.TimeUntilReady());
        Assert.Equal([4, 5], PopAll(reorder));
        Assert.Equal(2, reorder.Skipped); // 2 and 3
        Assert.False(Push(reorder, 2));
        Assert.False(Push(reorder, 5));
        Assert.Equal(2, reorder.Late);
    }

    [Fact]
    public void A_zero_wait_gives_a_hole_up_at_once()
    {
        using var reorder = new RtpReorderBuffer(TimeSpan.Zero, _time);
        Push(reorder, 1);
        Push(reorder, 3);
        Assert.Equal([1, 3], PopAll(reorder));
        Assert.Equal(1, reorder.Skipped);
    }

    [Fact]
    public void A_jump_past_the_window_gives_up_what_was_held_before_it()
    {
        using var reorder = new RtpReorderBuffer(Wait, _time, capacity: 16);
        Push(reorder, 0);
        PopAll(reorder);
        Push(reorder, 2); // held behind the hole at 1
        Push(reorder, 40); // 24 past the window's end: 1..24 given up at once, 2 thrown away with them
        Assert.Equal(1, reorder.Held);
        Assert.Equal(24, reorder.Skipped);
        Assert.Empty(PopAll(reorder)); // 25..39 are a hole like any other
        _time.Advance(Wait);
        Assert.Equal([40], PopAll(reorder));
        Assert.Equal(39, reorder.Skipped);
        Assert.Equal(0, reorder.Held);
    }

    [Fact]
    public void A_duplicate_of_a_held_packet_is_refused()
    {
        using var reorder = new RtpReorderBuffer(Wait, _time);
        Push(reorder, 1);
        PopAll(reorder);
        Assert.True(Push(reorder, 3));
        Assert.False(Push(reorder, 3));
        Assert.Equal(1, reorder.Held);
    }
}
