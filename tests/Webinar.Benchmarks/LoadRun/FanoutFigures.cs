using System.Diagnostics;
using System.Globalization;
using Webinar.Connector.Client;

namespace Webinar.Benchmarks.LoadRun;

/// <summary>Counters at one instant of a fan-out load run: what the publisher sent, what subscribers got, CPU used.</summary>
/// <remarks>
/// Received counts each sequence number once: a retransmission of a packet that had already arrived (the node answering
/// a NACK the subscriber sent for a packet that was late, not lost) is a duplicate, counted apart. Counting them as
/// deliveries is what once printed "delivery 119.63 %".
/// </remarks>
internal sealed record FanoutSnapshot(TimeSpan Wall, long Sent, long SentBytes, long Received, long ReceivedBytes, long Lost, TimeSpan ServerCpu, TimeSpan OwnCpu, long Duplicates = 0, long Retransmitted = 0)
{
    /// <summary>Sequence numbers spanned by all streams (media and padding), padding-only packets, per subscriber: distinct media received and streams.</summary>
    public long Expected { get; init; }

    public long Padding { get; init; }

    public long[] PerSubscriber { get; init; } = [];

    public int[] StreamsPerSubscriber { get; init; } = [];

    /// <summary>The server's and the generator's UDP receive queues at this instant (a backlog that drains inside a window delivers more than was sent in it).</summary>
    public UdpQueues ServerQueues { get; init; }

    public UdpQueues OwnQueues { get; init; }

    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static FanoutSnapshot Take(int serverPid, IReadOnlyList<ClientTrack> sending, IReadOnlyList<WebRtcClient> receivers)
    {
        long received = 0, bytes = 0, lost = 0, sent = 0, sentBytes = 0, duplicates = 0, retransmitted = 0, expected = 0, padding = 0;
        var perSubscriber = new long[receivers.Count];
        var streams = new int[receivers.Count];
        for (int i = 0; i < receivers.Count; i++)
        {
            var ofSubscriber = receivers[i].Received;
            streams[i] = ofSubscriber.Count;
            foreach (var stats in ofSubscriber)
            {
                long distinct = stats.Packets - stats.Duplicates;
                received += distinct;
                perSubscriber[i] += distinct;
                duplicates += stats.Duplicates;
                bytes += stats.PayloadBytes;
                lost += stats.Lost;
                expected += stats.Expected;
                padding += stats.PaddingPackets;
            }
        }

        foreach (var track in sending)
        {
            sent += track.PacketsSent;
            sentBytes += track.BytesSent;
            retransmitted += track.PacketsRetransmitted;
        }

        return new FanoutSnapshot(Clock.Elapsed, sent, sentBytes, received, bytes, lost, ProcessCpu.Read(serverPid),
            Process.GetCurrentProcess().TotalProcessorTime, duplicates, retransmitted)
        {
            Expected = expected,
            Padding = padding,
            PerSubscriber = perSubscriber,
            StreamsPerSubscriber = streams,
            ServerQueues = UdpQueues.Read(serverPid),
            OwnQueues = UdpQueues.Read(Environment.ProcessId),
        };
    }
}

/// <summary>One measured window of a fan-out run (one publisher, N subscribers, one server process).</summary>
internal sealed record FanoutFigures(string Server, int Subscribers, FanoutSnapshot Start, FanoutSnapshot End)
{
    public double Seconds => (End.Wall - Start.Wall).TotalSeconds;

    public double SentPerSecond => (End.Sent - Start.Sent) / Seconds;

    public double ForwardedPerSecond => (End.Received - Start.Received) / Seconds;

    public long GapLoss => End.Lost - Start.Lost;

    public double LossPercent => 100.0 * GapLoss / Math.Max(1, End.Received - Start.Received + GapLoss);

    public double DeliveryPercent => 100.0 * (End.Received - Start.Received) / Math.Max(1, (End.Sent - Start.Sent) * Subscribers);

    /// <summary>Server CPU as a fraction of one core.</summary>
    public double ServerCpu => (End.ServerCpu - Start.ServerCpu).TotalSeconds / Seconds;

    public double ForwardedPerCpuSecond => ForwardedPerSecond / Math.Max(ServerCpu, 1e-6);

    public double GeneratorCpu => (End.OwnCpu - Start.OwnCpu).TotalSeconds / Seconds;

    public void Print()
    {
        var text = CultureInfo.InvariantCulture;
        double ownCpu = (End.OwnCpu - Start.OwnCpu).TotalSeconds / Seconds;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"[{Server}] window          {Seconds:0.0} s on {Environment.ProcessorCount} cores (loadavg {ProcessCpu.LoadAverage()})"));
        Console.WriteLine(string.Create(text, $"[{Server}] publisher sent  {SentPerSecond:0} packets/s ({(End.SentBytes - Start.SentBytes) * 8 / Seconds / 1e6:0.00} Mbit/s payload)"));
        Console.WriteLine(string.Create(text, $"[{Server}] forwarded       {ForwardedPerSecond:0} packets/s to {Subscribers} subscribers ({(End.ReceivedBytes - Start.ReceivedBytes) * 8 / Seconds / 1e6:0.0} Mbit/s payload)"));
        Console.WriteLine(string.Create(text, $"[{Server}] delivery        {DeliveryPercent:0.00} % of sent x subscribers (each sequence number once); sequence-gap loss {GapLoss} packets ({LossPercent:0.000} %)"));
        Console.WriteLine(string.Create(text, $"[{Server}] duplicates      {End.Duplicates - Start.Duplicates} packets received twice; publisher retransmitted {End.Retransmitted - Start.Retransmitted}"));
        Console.WriteLine(string.Create(text, $"[{Server}] sequence        {End.Expected - Start.Expected} numbers spanned, {End.Padding - Start.Padding} padding-only (probes); {(End.Expected - Start.Expected) / (double)Math.Max(1, (End.Sent - Start.Sent) * Subscribers):0.0000} x sent x subscribers"));
        if (End.PerSubscriber.Length == Start.PerSubscriber.Length && End.PerSubscriber.Length > 0)
        {
            long sent = Math.Max(1, End.Sent - Start.Sent);
            var each = End.PerSubscriber.Select((n, i) => 100.0 * (n - Start.PerSubscriber[i]) / sent).Order().ToArray();
            Console.WriteLine(string.Create(text, $"[{Server}] UDP queues      server {Start.ServerQueues} at the start, {End.ServerQueues} at the end; generator {Start.OwnQueues.QueuedBytes / 1024.0:0} -> {End.OwnQueues.QueuedBytes / 1024.0:0} KiB queued, {End.OwnQueues.Drops - Start.OwnQueues.Drops} dropped in the window"));
            Console.WriteLine(string.Create(text, $"[{Server}] per subscriber  delivery min {each[0]:0.00} %, median {each[each.Length / 2]:0.00} %, max {each[^1]:0.00} %; streams {End.StreamsPerSubscriber.Min()}..{End.StreamsPerSubscriber.Max()}"));
        }
        Console.WriteLine(string.Create(text, $"[{Server}] server CPU      {100 * ServerCpu:0.0} % of one core -> {ForwardedPerCpuSecond:0} forwarded packets per CPU-second"));
        Console.WriteLine(string.Create(text, $"[{Server}] load generator  {100 * ownCpu:0.0} % of one core (publisher + {Subscribers} subscribers, same machine; {ownCpu / Math.Max(ServerCpu, 1e-6):0.00} x the server's CPU)"));
    }
}
