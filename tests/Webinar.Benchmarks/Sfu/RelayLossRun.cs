using System.Diagnostics;
using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.TestSupport.Network;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// The relay across an emulated inter-region link, clean and then lossy: a primary in us-east-1 and its replica in
/// eu-west-1 (two node processes), the relay between them through a <see cref="UdpLinkEmulator"/> of
/// <c>--delay-ms</c> each way. One publisher (stamped audio every 20 ms, VP8 at 1.5 Mbit/s) and one subscriber at the
/// primary's node, one subscriber at the replica's, both on loopback (their answers point at the nodes' real sockets, not the relay stand-ins). Two windows in one run: the link clean, then the
/// same link with <c>--loss</c> random loss each way (RTCP too). Per window: stamped audio packets the primary
/// subscriber saw that also reached the replica subscriber, video packets at the replica against the primary
/// subscriber, the relay's added latency (per-packet difference), and from both nodes' /metrics the NACKs the replica's
/// node sent over the link and the retransmissions each node made. The C# subscribers send no NACKs, so every repair
/// the replica subscriber sees is the replica node's own NACK answered across the link.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- relay-loss --seconds 20 --loss 0.01 --delay-ms 40</code>
/// </summary>
internal static class RelayLossRun
{
    public const string Verb = "relay-loss";
    private const string Primary = "us-east-1";
    private const string Replica = "eu-west-1";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds", "--loss", "--delay-ms"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 20, 2, 300);
        double loss = double.Parse(options.Text("--loss", "0.01"), CultureInfo.InvariantCulture);
        var delay = TimeSpan.FromMilliseconds(options.Int("--delay-ms", 40, 0, 500));
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var system = new EmulatedRelaySystem(Primary, Replica, busDelay: null);
        try
        {
            await system.InitializeAsync();
            var windows = await MeasureAsync(system, seconds, delay, loss);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            Report(windows, delay, cpu);
            return 0;
        }
        catch
        {
            Console.Error.WriteLine(system.Logs());
            throw;
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    private static async Task<List<Window>> MeasureAsync(EmulatedRelaySystem system, int seconds, TimeSpan delay, double loss)
    {
        var primaryMetrics = new Uri($"http://127.0.0.1:{system.Node(Primary).WsPort}/metrics");
        var replicaMetrics = new Uri($"http://127.0.0.1:{system.Node(Replica).WsPort}/metrics");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var relay = system.StartRelayLink(new LinkProfile(delay), new LinkProfile(delay));
        var primary = await system.Api.CreateMeetingAsync(Primary);
        var replica = await system.Api.CreateMeetingAsync(Replica, primary.MeetingId);
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var primaryViewer = await system.Api.CreateAttendeeAsync(primary.MeetingId, "primary-viewer");
        var replicaViewer = await system.Api.CreateAttendeeAsync(replica.MeetingId, "replica-viewer");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var windows = new List<Window>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(new Uri(primary.SignalingUrl), presenter.JoinToken, clientOptions, publish: true, rewriteAnswer: system.AtNode(Primary));
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new StampedPump(publisher.Client, publisher.SendAudio!, publisher.SendVideo, TimeSpan.FromMilliseconds(20), 1_500_000, tag: 1);
            pump.Start();
            var audience = await RelayAudience.JoinAsync(
                (new Uri(primary.SignalingUrl), primaryViewer.JoinToken, system.AtNode(Primary)),
                (new Uri(replica.SignalingUrl), replicaViewer.JoinToken, system.AtNode(Replica)), clientOptions, peers);
            var (atPrimary, atReplica) = (audience.AtPrimary, audience.AtReplica);
            var (primarySubscriber, replicaSubscriber) = (audience.Primary, audience.Replica);
            Console.WriteLine("media flows at both subscribers; 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));
            foreach (var rate in new[] { 0.0, loss })
            {
                if (rate > 0)
                {
                    // The same link, now lossy each way: the emulator is replaced on the same addresses (a few
                    // milliseconds without a link, inside the settling second below).
                    relay.Dispose();
                    relay = system.StartRelayLink(new LinkProfile(delay, default, rate, Seed: 7), new LinkProfile(delay, default, rate, Seed: 11));
                    await Task.Delay(TimeSpan.FromSeconds(2));
                }

                var primaryBefore = await NodeScrape.ReadAsync(http, primaryMetrics);
                var replicaBefore = await NodeScrape.ReadAsync(http, replicaMetrics);
                long videoPrimaryBefore = DistinctVideo(primarySubscriber.Client), videoReplicaBefore = DistinctVideo(replicaSubscriber.Client);
                long droppedBefore = relay.Dropped, forwardedBefore = relay.Forwarded;
                atPrimary.StartRecording();
                atReplica.StartRecording();
                await Task.Delay(TimeSpan.FromSeconds(seconds));
                atPrimary.StopRecording();
                // Packets the primary subscriber saw last may still be crossing the link, or awaiting their repair.
                await Task.Delay(delay * 4 + TimeSpan.FromMilliseconds(500));
                atReplica.StopRecording();
                long videoPrimary = DistinctVideo(primarySubscriber.Client) - videoPrimaryBefore;
                long videoReplica = DistinctVideo(replicaSubscriber.Client) - videoReplicaBefore;
                var primaryAfter = await NodeScrape.ReadAsync(http, primaryMetrics);
                var replicaAfter = await NodeScrape.ReadAsync(http, replicaMetrics);
                windows.Add(new Window(rate, atPrimary.Samples(), atReplica.Samples(), videoPrimary, videoReplica,
                    relay.Dropped - droppedBefore, relay.Forwarded - forwardedBefore,
                    replicaAfter.NacksSent - replicaBefore.NacksSent,
                    primaryAfter.Retransmitted - primaryBefore.Retransmitted,
                    replicaAfter.Retransmitted - replicaBefore.Retransmitted));
            }

            pump.Stop();
            return windows;
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }

            relay.Dispose();
        }
    }

    /// <summary>Video packets received once each (retransmissions of packets already held are duplicates).</summary>
    private static long DistinctVideo(WebRtcClient client)
    {
        long count = 0;
        foreach (var stats in client.Received)
        {
            if (stats.Track?.Kind == ClientMediaKind.Video)
            {
                count += stats.Packets - stats.Duplicates;
            }
        }

        return count;
    }

    private static void Report(List<Window> windows, TimeSpan delay, TimeSpan cpu)
    {
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"loadavg {ProcessCpu.LoadAverage()}; load generator CPU {cpu.TotalSeconds:0.0} s; relay link {delay.TotalMilliseconds * 2:0} ms RTT"));
        Console.WriteLine("| relay link loss (each way) | datagrams dropped on the link | stamped audio at the replica / at the primary | video packets at the replica / at the primary | NACKs sent by the replica's node | retransmitted by the primary's node | by the replica's node | relay added latency p50 | p99 |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var w in windows)
        {
            var paired = new List<long>();
            foreach (var (sent, atPrimary) in w.Primary)
            {
                if (w.Replica.TryGetValue(sent, out long atReplica))
                {
                    paired.Add(atReplica - atPrimary);
                }
            }

            double audio = w.Primary.Count == 0 ? 0 : 100.0 * paired.Count / w.Primary.Count;
            double video = w.VideoAtPrimary == 0 ? 0 : 100.0 * w.VideoAtReplica / w.VideoAtPrimary;
            Console.WriteLine(string.Create(text,
                $"| {100 * w.LossRate:0.#} % | {w.Dropped} of {w.Dropped + w.Forwarded} | {paired.Count} / {w.Primary.Count} ({audio:0.00} %) | {w.VideoAtReplica} / {w.VideoAtPrimary} ({video:0.00} %) | {w.NacksSentByReplica:0} | {w.RetransmittedByPrimary:0} | {w.RetransmittedByReplica:0} | {Percentiles.Millis(paired, 50):0.0} ms | {Percentiles.Millis(paired, 99):0.0} ms |"));
        }
    }

    private sealed record Window(
        double LossRate, Dictionary<long, long> Primary, Dictionary<long, long> Replica, long VideoAtPrimary, long VideoAtReplica,
        long Dropped, long Forwarded, double NacksSentByReplica, double RetransmittedByPrimary, double RetransmittedByReplica);
}
