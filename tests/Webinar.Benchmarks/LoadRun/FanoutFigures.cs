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
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static FanoutSnapshot Take(int serverPid, IReadOnlyList<ClientTrack> sending, IReadOnlyList<WebRtcClient> receivers)
    {
        long received = 0, bytes = 0, lost = 0, sent = 0, sentBytes = 0, duplicates = 0, retransmitted = 0;
        foreach (var subscriber in receivers)
        {
            foreach (var stats in subscriber.Received)
            {
                received += stats.Packets - stats.Duplicates;
                duplicates += stats.Duplicates;
                bytes += stats.PayloadBytes;
                lost += stats.Lost;
            }
        }

        foreach (var track in sending)
        {
            sent += track.PacketsSent;
            sentBytes += track.BytesSent;
            retransmitted += track.PacketsRetransmitted;
        }

        return new FanoutSnapshot(Clock.Elapsed, sent, sentBytes, received, bytes, lost, ProcessCpu.Read(serverPid),
            Process.GetCurrentProcess().TotalProcessorTime, duplicates, retransmitted);
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
        Console.WriteLine(string.Create(text, $"[{Server}] server CPU      {100 * ServerCpu:0.0} % of one core -> {ForwardedPerCpuSecond:0} forwarded packets per CPU-second"));
        Console.WriteLine(string.Create(text, $"[{Server}] load generator  {100 * ownCpu:0.0} % of one core (publisher + {Subscribers} subscribers, same machine; {ownCpu / Math.Max(ServerCpu, 1e-6):0.00} x the server's CPU)"));
    }
}
