using Microsoft.Extensions.Time.Testing;
using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class SeqNumberUnwrapperTests
{
    public static TheoryData<string, ushort[], long[]> Cases => new()
    {
        { "in order", new ushort[] { 0, 1, 2, 3 }, new long[] { 0, 1, 2, 3 } },
        { "65535 to 0 wraps", new ushort[] { 65534, 65535, 0, 1 }, new long[] { 65534, 65535, 65536, 65537 } },
        { "reordered across the wrap", new ushort[] { 65534, 0, 65535, 2, 1 }, new long[] { 65534, 65536, 65535, 65538, 65537 } },
        { "late packet from before the wrap after it", new ushort[] { 65500, 10, 65520 }, new long[] { 65500, 65546, 65520 } },
        { "two wraps", new ushort[] { 30000, 60000, 20000, 50000, 10000 }, new long[] { 30000, 60000, 85536, 115536, 141072 } },
        { "older than the first across a wrap is negative", new ushort[] { 5, 65530 }, new long[] { 5, -6 } },
        { "duplicates", new ushort[] { 7, 7, 8, 8 }, new long[] { 7, 7, 8, 8 } },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unwraps_sequence_numbers_to_the_nearest_cycle(string name, ushort[] input, long[] expected)
    {
        var unwrapper = new SeqNumberUnwrapper();
        var actual = new long[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            actual[i] = unwrapper.Unwrap(input[i]);
        }

        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}: {string.Join(",", actual)}");
    }
}

public sealed class RtpStreamRewriterTests
{
    private const uint Ssrc = 1111;

    /// <summary>One row: input seq, expected output seq, resync before it, drop it instead of forwarding.</summary>
    public readonly record struct Row(ushort Input, ushort Output, bool Sync = false, bool Drop = false);

    private static Row R(ushort input, ushort output, bool sync = false, bool drop = false) => new(input, output, sync, drop);

    // Cases after mediasoup's TestSeqManager.cpp (SeqManager<uint16_t>): sync = the source switches, drop = not forwarded.
    public static TheoryData<string, ushort, Row[]> Tables => new()
    {
        { "ordered, no sync, no drop", 0, [R(0, 0), R(1, 1), R(2, 2), R(3, 3), R(4, 4), R(5, 5)] },
        { "ordered, sync, no drop", 0, [R(0, 0), R(1, 1), R(2, 2), R(80, 3, sync: true), R(81, 4), R(82, 5), R(84, 7)] },
        { "ordered, sync, drop", 0,
            [R(0, 0), R(1, 1), R(2, 2), R(3, 3), R(4, 4, sync: true), R(5, 5), R(6, 6), R(7, 7, sync: true),
             R(8, 0, drop: true), R(9, 8), R(11, 0, drop: true), R(10, 9), R(12, 10)] },
        { "ordered across 65535 to 0", 65533, [R(65533, 65533), R(65534, 65534), R(65535, 65535), R(0, 0), R(1, 1)] },
        { "big jump keeps the gap", 0, [R(0, 0), R(1, 1), R(1000, 1000), R(1001, 1001)] },
        { "big jump, drop before it", 0, [R(0, 0), R(1, 0, drop: true), R(100, 99), R(100, 99), R(103, 0, drop: true), R(101, 100)] },
        { "big jump, drop after it", 0, [R(0, 0), R(1, 1), R(100, 0, drop: true), R(103, 0, drop: true), R(101, 100)] },
        { "drop, then newer and older ones", 0, [R(0, 0), R(2, 0, drop: true), R(3, 2), R(4, 3), R(1, 1)] },
        { "mixed, sync, drop", 0,
            [R(0, 0), R(1, 1), R(2, 2), R(3, 3), R(7, 7), R(6, 0, drop: true), R(8, 8), R(10, 10), R(9, 9), R(11, 11),
             R(0, 12, sync: true), R(2, 14), R(3, 15), R(4, 16), R(5, 17), R(6, 18), R(7, 19), R(8, 20), R(9, 21), R(10, 22),
             R(9, 0, drop: true), R(61, 23, sync: true), R(62, 24), R(63, 25), R(64, 26), R(65, 27),
             R(11, 28, sync: true), R(12, 29), R(13, 30), R(14, 31), R(15, 32),
             R(1, 33, sync: true), R(2, 34), R(3, 35), R(4, 36), R(5, 37),
             R(65533, 38, sync: true), R(65534, 39), R(65535, 40),
             R(0, 41, sync: true), R(1, 42), R(3, 0, drop: true), R(4, 44), R(5, 45), R(6, 46), R(7, 47)] },
        { "many drops at the beginning", 1,
            [R(1, 1), R(2, 0, drop: true), R(3, 0, drop: true), R(4, 0, drop: true), R(5, 0, drop: true), R(6, 0, drop: true),
             R(7, 0, drop: true), R(8, 0, drop: true), R(9, 0, drop: true), R(120, 112), R(121, 113), R(139, 131)] },
        { "many drops, high values", 1,
            [R(1, 1), R(2, 0, drop: true), R(3, 0, drop: true), R(4, 0, drop: true), R(5, 0, drop: true), R(6, 0, drop: true),
             R(7, 0, drop: true), R(8, 0, drop: true), R(9, 0, drop: true), R(32768, 32760), R(32769, 32761), R(32780, 32772)] },
        { "sync and drops near 65535", 1,
            [R(65530, 1, sync: true), R(65531, 2), R(65532, 3), R(65533, 0, drop: true), R(65534, 0, drop: true),
             R(65535, 4), R(0, 5), R(1, 6), R(2, 7), R(3, 8)] },
        { "out of order around the wrap", 65534,
            [R(65534, 65534), R(0, 0), R(65535, 65535), R(2, 2), R(1, 1), R(3, 3)] },
        { "output wraps while input does not", 65535, [R(10, 65535), R(11, 0), R(13, 2), R(12, 1)] },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public void Sequence_numbers_follow_the_table(string name, ushort initialOutput, Row[] rows)
    {
        var rewriter = new RtpStreamRewriter(9999, 90000, new FakeTimeProvider(), initialOutput);
        for (int i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            if (row.Sync)
            {
                rewriter.Resync();
            }

            if (row.Drop)
            {
                rewriter.Drop(Ssrc, row.Input);
                continue;
            }

            Assert.True(rewriter.TryMap(Ssrc, row.Input, 0, out ushort output, out _), $"{name} row {i} was dropped");
            Assert.True(row.Output == output, $"{name} row {i}: input {row.Input} gave {output}, expected {row.Output}");
        }
    }

    [Fact]
    public void Source_switch_continues_sequence_and_advances_timestamp_by_the_wall_clock_gap()
    {
        var time = new FakeTimeProvider();
        var rewriter = new RtpStreamRewriter(9999, 90000, time, initialSequenceNumber: 500, initialTimestamp: 1000);
        Assert.True(rewriter.TryMap(1, 40000, 123_456, out ushort seq, out uint ts));
        Assert.Equal((500, 1000u), (seq, ts));
        time.Advance(TimeSpan.FromMilliseconds(33));
        Assert.True(rewriter.TryMap(1, 40001, 123_456 + 3000, out seq, out ts));
        Assert.Equal((501, 4000u), (seq, ts));

        // Another producer takes over 100 ms later with unrelated numbers.
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(rewriter.TryMap(2, 7, 4_000_000_000, out seq, out ts));
        Assert.Equal((502, 4000u + 9000u), (seq, ts));
        Assert.True(rewriter.TryMap(2, 8, 4_000_000_000 + 3000, out seq, out ts));
        Assert.Equal((503, 16000u), (seq, ts));

        // Late packets of the old source and packets older than the switch point are dropped.
        Assert.False(rewriter.TryMap(1, 40000, 123_456, out _, out _));
        Assert.False(rewriter.TryMap(2, 6, 4_000_000_000 - 3000, out _, out _));
        Assert.True(rewriter.TryMap(2, 9, 4_000_000_000 + 6000, out seq, out _));
        Assert.Equal(504, seq);
    }

    [Fact]
    public void Switching_back_to_the_previous_source_continues_the_output()
    {
        var time = new FakeTimeProvider();
        var rewriter = new RtpStreamRewriter(9999, 90000, time, 0, 0);
        Assert.True(rewriter.TryMap(1, 100, 0, out _, out _));
        Assert.True(rewriter.TryMap(1, 101, 3000, out _, out _));
        Assert.True(rewriter.TryMap(2, 5000, 777, out ushort seq, out _));
        Assert.Equal(2, seq);
        Assert.False(rewriter.TryMap(1, 101, 3000, out _, out _)); // late duplicate of the old source
        Assert.True(rewriter.TryMap(1, 150, 90000, out seq, out _)); // the first source is back
        Assert.Equal(3, seq);
        Assert.True(rewriter.TryMap(1, 151, 93000, out seq, out _));
        Assert.Equal(4, seq);
    }

    [Fact]
    public void Producer_restart_with_a_new_ssrc_continues_without_a_jump()
    {
        var time = new FakeTimeProvider();
        var rewriter = new RtpStreamRewriter(9999, 48000, time, 65534, uint.MaxValue - 959);
        Assert.True(rewriter.TryMap(10, 100, 0, out ushort seq, out uint ts));
        Assert.Equal((65534, uint.MaxValue - 959), (seq, ts));
        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(rewriter.TryMap(10, 101, 960, out seq, out ts));
        Assert.Equal((65535, 0u), (seq, ts)); // timestamp wrapped to 0

        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(rewriter.TryMap(11, 30000, 5, out seq, out ts));
        Assert.Equal((0, 24000u), (seq, ts)); // 500 ms at 48 kHz after 0, sequence wrapped
    }

    public static TheoryData<uint, uint, uint> TimestampWraps => new()
    {
        // input timestamps, initial output: mapping is modular, so both sides wrap cleanly.
        { uint.MaxValue - 1500, 3000, 10 },
        { 100, 3000, uint.MaxValue - 100 },
        { uint.MaxValue, 1, uint.MaxValue },
    };

    [Theory]
    [MemberData(nameof(TimestampWraps))]
    public void Timestamps_wrap_at_2_to_the_32(uint firstInput, uint step, uint initialOutput)
    {
        var rewriter = new RtpStreamRewriter(9999, 90000, new FakeTimeProvider(), 0, initialOutput);
        for (uint i = 0; i < 4; i++)
        {
            Assert.True(rewriter.TryMap(5, (ushort)i, firstInput + (i * step), out _, out uint ts));
            Assert.Equal(initialOutput + (i * step), ts);
        }
    }

    [Fact]
    public void Rewrites_the_packet_in_place()
    {
        var buffer = new byte[50];
        var writer = new RtpPacketWriter(buffer, true, 96, 1000, 90_000, 1234);
        Assert.True(writer.TryComplete([1, 2, 3], out int length));
        Assert.True(RtpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        var rewriter = new RtpStreamRewriter(0xABCD, 90000, new FakeTimeProvider(), 7, 70);
        Assert.True(rewriter.TryRewrite(packet));
        Assert.Equal(0xABCDu, packet.Ssrc);
        Assert.Equal(7, packet.SequenceNumber);
        Assert.Equal(70u, packet.Timestamp);
        Assert.Equal(7, rewriter.LastSequenceNumber);
        Assert.Equal(70u, rewriter.LastTimestamp);
    }
}
