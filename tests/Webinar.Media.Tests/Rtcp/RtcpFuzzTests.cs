using FsCheck;
using FsCheck.Fluent;
using Webinar.Media.Rtcp;
using Webinar.Media.Tests.Rtp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class RtcpFuzzTests
{
    [Fact]
    public void Random_bytes_never_escape_an_exception_from_any_rtcp_parser()
    {
        Prop.ForAll<byte[]>(bytes =>
        {
            ExerciseCompound(bytes);
            if (bytes.Length > 0)
            {
                bytes[0] = (byte)((bytes[0] & 0x3F) | 0x80);
                ExerciseCompound(bytes);
            }

            RtpPacketTests.Exercise(bytes);
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Mutated_valid_packets_give_clean_rejections()
    {
        var seeds = ValidPackets();
        var random = new Random(4585);
        var buffer = new byte[256];
        for (int i = 0; i < 60_000; i++)
        {
            var seed = seeds[random.Next(seeds.Count)];
            int length = random.Next(3) == 0 ? random.Next(0, seed.Length + 1) : seed.Length;
            seed.AsSpan(0, length).CopyTo(buffer);
            for (int m = random.Next(1, 4); m > 0 && length > 0; m--)
            {
                buffer[random.Next(length)] ^= (byte)random.Next(1, 256);
            }

            ExerciseCompound(buffer.AsSpan(0, length));
        }
    }

    private static List<byte[]> ValidPackets()
    {
        var list = new List<byte[]>();
        var buffer = new byte[256];
        var block = new ReportBlock(1, 2, 3, 4, 5, 6, 7);
        int n;
        RtcpSenderReport.TryWrite(buffer, 1, 2, 3, 4, 5, [block, block], out n); list.Add(buffer[..n]);
        RtcpReceiverReport.TryWrite(buffer, 1, [block], out n); list.Add(buffer[..n]);
        RtcpSourceDescriptionReader.TryWriteCname(buffer, 1, "someone@example"u8, out n); list.Add(buffer[..n]);
        RtcpGoodbye.TryWrite(buffer, [1, 2], "bye"u8, out n); list.Add(buffer[..n]);
        RtcpGenericNack.TryWrite(buffer, 1, 2, [1, 2, 5, 40, 41], out n); list.Add(buffer[..n]);
        RtcpPictureLossIndication.TryWrite(buffer, 1, 2, out n); list.Add(buffer[..n]);
        RtcpFullIntraRequest.TryWrite(buffer, 1, 2, 3, out n); list.Add(buffer[..n]);
        RtcpRemb.TryWrite(buffer, 1, 1_000_000, [5, 6], out n); list.Add(buffer[..n]);
        var writer = new TransportFeedbackWriter(buffer, new byte[256], 1, 2, 3, 4, 5);
        foreach (int d in new[] { 1, -1, 300, 0 })
        {
            writer.TryAddReceived(d);
            writer.TryAddMissing();
        }

        writer.TryComplete(out n);
        list.Add(buffer[..n]);
        return list;
    }

    private static void ExerciseCompound(ReadOnlySpan<byte> bytes)
    {
        var reader = new RtcpCompoundReader(bytes);
        Span<ushort> lost = stackalloc ushort[64];
        while (reader.TryReadNext(out var packet))
        {
            if (RtcpSenderReport.TryParse(packet, out var sr))
            {
                for (int i = 0; i < sr.ReportCount; i++)
                {
                    _ = sr.GetReportBlock(i);
                }
            }

            if (RtcpReceiverReport.TryParse(packet, out var rr))
            {
                for (int i = 0; i < rr.ReportCount; i++)
                {
                    _ = rr.GetReportBlock(i);
                }
            }

            if (RtcpSourceDescriptionReader.TryCreate(packet, out var sdes))
            {
                while (sdes.TryReadNextChunk(out _, out _))
                {
                }
            }

            if (RtcpGoodbye.TryParse(packet, out var bye))
            {
                for (int i = 0; i < bye.SsrcCount; i++)
                {
                    _ = bye.GetSsrc(i);
                }
            }

            if (RtcpGenericNack.TryParse(packet, out var nack))
            {
                _ = nack.GetLostSequenceNumbers(lost);
            }

            _ = RtcpPictureLossIndication.TryParse(packet, out _);
            if (RtcpFullIntraRequest.TryParse(packet, out var fir))
            {
                for (int i = 0; i < fir.EntryCount; i++)
                {
                    fir.GetEntry(i, out _, out _);
                }
            }

            if (RtcpRemb.TryParse(packet, out var remb))
            {
                for (int i = 0; i < remb.SsrcCount; i++)
                {
                    _ = remb.GetSsrc(i);
                }
            }

            if (RtcpTransportFeedback.TryParse(packet, out var twcc))
            {
                foreach (var entry in twcc)
                {
                    _ = entry.DeltaTicks;
                }
            }
        }
    }
}
