using Webinar.Media.Rtcp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class TransportFeedbackTests
{
    // pion/rtcp transport_layer_cc_test.go, TestTransportLayerCC_Unmarshal "example1": one packet, small delta 37 ms.
    private static readonly byte[] PionExample1 =
    [
        0xaf, 0xcd, 0x00, 0x05, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x03, 0x2f, 0xa0,
        0x00, 0x99, 0x00, 0x01, 0x3d, 0xe8, 0x02, 0x17, 0x20, 0x01, 0x94, 0x01,
    ];

    // "example3": two large then four small deltas, run-length chunks.
    private static readonly byte[] PionExample3 =
    [
        0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb,
        0x01, 0x74, 0x00, 0x06, 0x45, 0xb1, 0x5a, 0x40, 0x40, 0x02, 0x20, 0x04,
        0x1f, 0xfe, 0x1f, 0x9a, 0xd0, 0x00, 0xd0, 0x00,
    ];

    // "example4": seven small deltas in one run-length chunk, three bytes of padding.
    private static readonly byte[] PionExample4 =
    [
        0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb,
        0x00, 0x04, 0x00, 0x07, 0x10, 0x63, 0x6e, 0x01, 0x20, 0x07, 0x4c, 0x24,
        0x24, 0x10, 0x0c, 0x0c, 0x10, 0x00, 0x00, 0x03,
    ];

    private static List<TransportFeedbackEntry> Entries(byte[] bytes, out RtcpTransportFeedbackSummary summary)
    {
        Assert.True(RtcpPacket.TryParse(bytes, out var packet));
        Assert.True(RtcpTransportFeedback.TryParse(packet, out var feedback));
        summary = new(feedback.SenderSsrc, feedback.MediaSsrc, feedback.BaseSequenceNumber, feedback.PacketStatusCount, feedback.ReferenceTime, feedback.FeedbackPacketCount);
        var list = new List<TransportFeedbackEntry>();
        foreach (var entry in feedback)
        {
            list.Add(entry);
        }

        return list;
    }

    internal readonly record struct RtcpTransportFeedbackSummary(uint Sender, uint Media, ushort Base, ushort Count, int ReferenceTime, byte FbCount);

    [Fact]
    public void Parses_pion_example_1()
    {
        var entries = Entries(PionExample1, out var summary);
        Assert.Equal(new RtcpTransportFeedbackSummary(4195875351, 1124282272, 153, 1, 4057090, 23), summary);
        var entry = Assert.Single(entries);
        Assert.Equal(153, entry.SequenceNumber);
        Assert.Equal(TransportFeedbackStatus.ReceivedSmallDelta, entry.Status);
        Assert.Equal(148, entry.DeltaTicks); // 37 ms
        Assert.Equal((4057090L * 64_000) + 37_000, entry.ReceiveTimeMicros);
    }

    [Fact]
    public void Parses_pion_example_3_with_large_deltas()
    {
        var entries = Entries(PionExample3, out var summary);
        Assert.Equal((ushort)372, summary.Base);
        int[] deltas = [8190, 8090, 208, 0, 208, 0];
        Assert.Equal(deltas.Length, entries.Count);
        for (int i = 0; i < deltas.Length; i++)
        {
            Assert.Equal((ushort)(372 + i), entries[i].SequenceNumber);
            Assert.Equal(deltas[i], entries[i].DeltaTicks);
            Assert.Equal(i < 2 ? TransportFeedbackStatus.ReceivedLargeDelta : TransportFeedbackStatus.ReceivedSmallDelta, entries[i].Status);
        }
    }

    [Fact]
    public void Builds_pion_examples_1_and_4_byte_exact()
    {
        var buffer = new byte[100];
        var scratch = new byte[100];
        var one = new TransportFeedbackWriter(buffer, scratch, 4195875351, 1124282272, 153, 4057090, 23);
        Assert.True(one.TryAddReceived(148));
        Assert.True(one.TryComplete(out int length));
        Assert.Equal(PionExample1, buffer[..length]);

        var four = new TransportFeedbackWriter(buffer, scratch, 4195875351, 423483579, 4, 1074030, 1);
        foreach (int delta in new[] { 76, 36, 36, 16, 12, 12, 16 })
        {
            Assert.True(four.TryAddReceived(delta));
        }

        Assert.True(four.TryComplete(out length));
        Assert.Equal(PionExample4, buffer[..length]);
    }

    [Fact]
    public void Decodes_the_draft_chunk_examples()
    {
        // draft-holmer §3.1.3/3.1.4: 0x00DD = 221 not received; 0x6018 = 24 "received without delta";
        // 0x9F1C one-bit vector; 0xCD50 two-bit vector.
        Assert.Equal(221, RtcpTransportFeedback.ChunkSymbolCount(0x00DD));
        Assert.Equal(TransportFeedbackStatus.NotReceived, RtcpTransportFeedback.ChunkSymbol(0x00DD, 5));
        Assert.Equal(24, RtcpTransportFeedback.ChunkSymbolCount(0x6018));
        Assert.Equal(TransportFeedbackStatus.ReceivedWithoutDelta, RtcpTransportFeedback.ChunkSymbol(0x6018, 0));
        int[] oneBit = [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0];
        for (int i = 0; i < 14; i++)
        {
            Assert.Equal((TransportFeedbackStatus)oneBit[i], RtcpTransportFeedback.ChunkSymbol(0x9F1C, i));
        }

        int[] twoBit = [0, 3, 1, 1, 1, 0, 0];
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal((TransportFeedbackStatus)twoBit[i], RtcpTransportFeedback.ChunkSymbol(0xCD50, i));
        }
    }

    [Fact]
    public void Random_status_sequences_round_trip_through_writer_and_parser()
    {
        var random = new Random(8888);
        var buffer = new byte[1200];
        var scratch = new byte[1200];
        for (int round = 0; round < 2000; round++)
        {
            int count = random.Next(1, 300);
            var expected = new List<(TransportFeedbackStatus Status, int Delta)>();
            var writer = new TransportFeedbackWriter(buffer, scratch, 1, 2, (ushort)random.Next(65536), random.Next(1 << 24), (byte)round);
            // Bias towards runs so run-length, one-bit and two-bit chunks all appear.
            int mode = random.Next(4);
            for (int i = 0; i < count; i++)
            {
                int pick = mode switch
                {
                    0 => random.Next(3),
                    1 => random.Next(10) == 0 ? 0 : 1,
                    2 => i / 20 % 3,
                    _ => random.Next(20) == 0 ? 2 : random.Next(2),
                };
                bool added;
                if (pick == 0)
                {
                    added = writer.TryAddMissing();
                    expected.Add((TransportFeedbackStatus.NotReceived, 0));
                }
                else if (pick == 1)
                {
                    int delta = random.Next(0, 256);
                    added = writer.TryAddReceived(delta);
                    expected.Add((TransportFeedbackStatus.ReceivedSmallDelta, delta));
                }
                else
                {
                    int delta = random.Next(2) == 0 ? random.Next(-32768, 0) : random.Next(256, 32768);
                    added = writer.TryAddReceived(delta);
                    expected.Add((TransportFeedbackStatus.ReceivedLargeDelta, delta));
                }

                Assert.True(added);
            }

            Assert.True(writer.TryComplete(out int length));
            Assert.Equal(0, length % 4);
            Assert.True(RtcpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
            Assert.True(RtcpTransportFeedback.TryParse(packet, out var feedback));
            Assert.Equal(count, feedback.PacketStatusCount);
            int index = 0;
            foreach (var entry in feedback)
            {
                Assert.Equal(expected[index].Status, entry.Status);
                Assert.Equal(expected[index].Delta, entry.DeltaTicks);
                index++;
            }

            Assert.Equal(count, index);
        }
    }

    [Fact]
    public void Writer_refuses_a_delta_beyond_16_bits_and_an_empty_packet()
    {
        var writer = new TransportFeedbackWriter(new byte[100], new byte[100], 1, 2, 0, 0, 0);
        Assert.False(writer.TryAddReceived(40_000));
        Assert.False(writer.TryAddReceived(-40_000));
        Assert.False(writer.TryComplete(out _));
    }

    [Fact]
    public void Status_count_beyond_the_chunks_is_rejected()
    {
        var bytes = (byte[])PionExample4.Clone();
        bytes[15] = 8; // claims 8 packets, the run covers 7 and no chunk follows before the deltas run out
        Assert.True(RtcpPacket.TryParse(bytes, out var packet));
        Assert.False(RtcpTransportFeedback.TryParse(packet, out _));
    }
}
