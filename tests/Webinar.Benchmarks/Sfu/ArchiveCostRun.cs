using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.TestSupport.Systems;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Recording cost at the node: one node (us-east-1), one presenter (stamped Opus 50 packets/s + VP8 about
/// <c>--bitrate</c>) and one subscriber measuring one-way latency per audio packet. Alternates windows of
/// <c>--seconds</c> without an archive and with one recording (<c>--mode</c> Individual or Composed: at the node both
/// record the raw RTP the same way; Composed's encoding runs after the stop), <c>--windows</c> pairs, and reports the
/// node's CPU, the subscriber's p50/p99 latency and the generator's own CPU per state.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- archive-cost --seconds 8 --windows 3</code>
/// </summary>
internal static class ArchiveCostRun
{
    public const string Verb = "archive-cost";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds", "--windows", "--bitrate", "--mode"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 8, 1, 120);
        int pairs = options.Int("--windows", 3, 1, 20);
        int bitrate = options.Int("--bitrate", 1_500_000, 100_000, 20_000_000);
        string mode = options.String("--mode", "Individual");
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        await using var system = await BenchmarkSystem.StartAsync("us-east-1");
        int node = system.NodePid("us-east-1");
        var meeting = await system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "presenter");
        var viewer = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "viewer");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var states = new Dictionary<bool, List<(double NodeCpu, double OwnCpu, double P50, double P99, int Samples)>> { [false] = [], [true] = [] };
        try
        {
            var publisher = await SfuPeer.JoinAsync(system.SignalingUrl(meeting), presenter.JoinToken, clientOptions, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new StampedPump(publisher.Client, publisher.SendAudio!, publisher.SendVideo, TimeSpan.FromMilliseconds(20), bitrate, tag: 1);
            pump.Start();
            var latency = new LatencyRecorder();
            var subscriber = await SfuPeer.JoinAsync(system.SignalingUrl(meeting), viewer.JoinToken, clientOptions, publish: false);
            peers.Add(subscriber);
            latency.Attach(subscriber.Client);
            await subscriber.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            if (await latency.FirstArrivalAsync(1, TimeSpan.FromSeconds(20)) is null)
            {
                throw new TimeoutException("No stamped packet reached the subscriber within 20 s.");
            }

            await Task.Delay(TimeSpan.FromSeconds(7)); // JIT tiering
            for (int w = 0; w < pairs; w++)
            {
                foreach (var recording in new[] { false, true })
                {
                    Guid? archiveId = null;
                    if (recording)
                    {
                        archiveId = (await system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = mode })).GetProperty("ArchiveId").GetGuid();
                        await Task.Delay(TimeSpan.FromSeconds(2)); // the node attaches its recorder
                    }

                    latency.StartRecording();
                    var nodeStart = ProcessCpu.Read(node);
                    var ownStart = ProcessCpu.Read(Environment.ProcessId);
                    var wall = System.Diagnostics.Stopwatch.StartNew();
                    await Task.Delay(TimeSpan.FromSeconds(seconds));
                    double elapsed = wall.Elapsed.TotalSeconds;
                    double nodeCpu = (ProcessCpu.Read(node) - nodeStart).TotalSeconds / elapsed;
                    double ownCpu = (ProcessCpu.Read(Environment.ProcessId) - ownStart).TotalSeconds / elapsed;
                    latency.StopRecording();
                    var ticks = latency.Samples().Values.ToList();
                    states[recording].Add((nodeCpu, ownCpu, Percentiles.Millis(ticks, 50), Percentiles.Millis(ticks, 99), ticks.Count));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"window {w + 1} {(recording ? "recording" : "no archive")}: node CPU {100 * nodeCpu:0.0} %, p50 {Percentiles.Millis(ticks, 50):0.000} ms, p99 {Percentiles.Millis(ticks, 99):0.000} ms, generator CPU {100 * ownCpu:0.0} % (loadavg {ProcessCpu.LoadAverage()})"));
                    if (archiveId is { } id)
                    {
                        await system.Api.StopArchiveAsync(meeting.MeetingId, id);
                        var done = await system.Api.WaitForArchiveAsync(id, TimeSpan.FromMinutes(5), "Available", "Failed");
                        Console.WriteLine($"  archive {done.GetProperty("Status").GetString()}: {done.GetProperty("Duration")} s, {(done.TryGetProperty("Size", out var size) ? size.ToString() : "-")} bytes");
                    }
                }
            }

            pump.Stop();
            Report(mode, states);
            return 0;
        }
        catch
        {
            Console.Error.WriteLine(system.Logs());
            throw;
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    private static void Report(string mode, Dictionary<bool, List<(double NodeCpu, double OwnCpu, double P50, double P99, int Samples)>> states)
    {
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| State | node CPU, mean (% of one core) | range | subscriber p50 (ms) | p99 (ms) | generator CPU (%) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (recording, windows) in states)
        {
            Console.WriteLine(string.Create(text,
                $"| {(recording ? mode + " archive recording" : "no archive")} | {100 * windows.Average(w => w.NodeCpu):0.00} | {100 * windows.Min(w => w.NodeCpu):0.00}–{100 * windows.Max(w => w.NodeCpu):0.00} | {windows.Average(w => w.P50):0.000} | {windows.Average(w => w.P99):0.000} | {100 * windows.Average(w => w.OwnCpu):0.0} |"));
        }

        Console.WriteLine(string.Create(text,
            $"recording one presenter: {100 * (states[true].Average(w => w.NodeCpu) - states[false].Average(w => w.NodeCpu)):+0.00;-0.00} points of one core (loadavg {ProcessCpu.LoadAverage()})"));
    }
}
