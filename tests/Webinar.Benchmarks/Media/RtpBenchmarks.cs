using BenchmarkDotNet.Attributes;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;

namespace Webinar.Benchmarks.Media;

/// <summary>Per-packet cost of the RTP forwarding rewrite and of building TWCC feedback.</summary>
[MemoryDiagnoser]
public class RtpBenchmarks
{
    private const byte TransportSequenceId = 3;
    private readonly byte[] _packet = new byte[1200];
    private readonly byte[] _feedback = new byte[1500];
    private int _length;
    private RtpStreamRewriter _rewriter = null!;
    private TransportFeedbackRecorder _recorder = null!;
    private ushort _sequence;
    private ushort _transportSequence;
    private long _arrival;

    [GlobalSetup]
    public void Setup()
    {
        var writer = new RtpPacketWriter(_packet, false, 96, 1, 90_000, 0x11111111);
        writer.SetExtension(1, "0"u8);
        writer.SetExtension(2, [0, 0, 0]);
        writer.SetExtension(TransportSequenceId, [0, 0]);
        var payload = new byte[1200 - 12 - 4 - 12];
        writer.TryComplete(payload, out _length);
        _rewriter = new RtpStreamRewriter(0x22222222, 90_000, TimeProvider.System);
        _recorder = new TransportFeedbackRecorder();
    }

    [Benchmark]
    public bool ParseRewriteSeqTsSsrcAndExtension()
    {
        var buffer = _packet.AsSpan(0, _length);
        if (!RtpPacket.TryParse(buffer, out var packet))
        {
            return false;
        }

        packet.SequenceNumber = _sequence++;
        packet.Timestamp += 3000;
        packet.Ssrc = 0x11111111;
        return _rewriter.TryRewrite(packet) && packet.TrySetTransportSequenceNumber(TransportSequenceId, _transportSequence++);
    }

    /// <summary>Records 100 arrivals (about 100 ms of 1.5 Mbit/s video, with a loss) and builds their feedback.</summary>
    [Benchmark]
    public int BuildTransportFeedbackFor100Packets()
    {
        for (int i = 0; i < 100; i++)
        {
            if (i != 37)
            {
                _recorder.OnPacket(_transportSequence, _arrival);
            }

            _transportSequence++;
            _arrival += 1_000 + (i % 5 * 100);
        }

        int total = 0;
        while (_recorder.TryBuildFeedback(_feedback, 1, 2, out int length))
        {
            total += length;
        }

        return total;
    }
}
