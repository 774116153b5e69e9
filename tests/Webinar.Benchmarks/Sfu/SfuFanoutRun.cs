using System.Globalization;
using Webinar.Benchmarks.Janus;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.TestSupport.Janus;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Load run against our node, then Janus with the same load in the same run: one C# publisher (Opus 50 packets/s + VP8
/// about 1.5 Mbit/s) and N C# subscribers in a us-east-1 primary; forwarded packets/s, sequence-gap loss, the node's
/// CPU (/proc/&lt;pid&gt;/stat over the window) and forwarded packets per node CPU-second, and the ratio ours/Janus.
/// Bounded: stops by itself after start-up, two warm-ups and two windows of <c>--seconds</c>.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- sfu-fanout --subscribers 10 --seconds 12</code>
/// </summary>
internal static class SfuFanoutRun
{
    public const string Verb = "sfu-fanout";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--subscribers", "--seconds", "--bitrate", "--skip-janus", "--client-workers", "--warmup"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int subscribers = options.Int("--subscribers", 10, 1, 249);
        int seconds = options.Int("--seconds", 12, 1, 120);
        int bitrate = options.Int("--bitrate", 1_500_000, 100_000, 10_000_000);
        bool skipJanus = options.Int("--skip-janus", 0, 0, 1) == 1;
        ClientHandshakes = new DtlsHandshakeWorkers(options.Int("--client-workers", 256, 1, 512));
        int warmup = options.Int("--warmup", 10, 0, 50);

        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var ours = await MeasureOursAsync(subscribers, seconds, bitrate, warmup);
        ours.Print();
        if (skipJanus)
        {
            return 0;
        }

        Console.WriteLine($"loadavg before Janus: {ProcessCpu.LoadAverage()}");
        var janus = await JanusFanoutRun.MeasureAsync(subscribers, seconds, bitrate);
        janus.Print();
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"ratio ours/Janus, forwarded packets per CPU-second: {ours.ForwardedPerCpuSecond / janus.ForwardedPerCpuSecond:0.00} ({ours.ForwardedPerCpuSecond:0} / {janus.ForwardedPerCpuSecond:0}); CPU {100 * ours.ServerCpu:0.0} % vs {100 * janus.ServerCpu:0.0} %"));
        return 0;
    }

    /// <summary>
    /// The generator every run uses, for our node and Janus alike: subscribers count RTP by header (no decryption),
    /// two threads serve every client's socket and timers (epoll), a bounded set runs the client handshakes
    /// (<c>--client-workers</c>, 256 by default: each subscriber starts its handshake when ICE is nominated, as
    /// a browser does; a smaller set queues ClientHellos while the node's handshake timers run), one certificate for all.
    /// </summary>
    private static DtlsHandshakeWorkers ClientHandshakes = new(256);

    internal static WebRtcClientOptions GeneratorOptions(ClientReceiveGroup group, System.Net.IPAddress? localAddress = null) => new()
    {
        Certificate = DtlsCertificate.Generate(),
        Dtls = new DtlsTransportOptions { ClientWorkers = ClientHandshakes, HandshakeTimeout = TimeSpan.FromSeconds(30) },
        HeaderOnlyReceive = true,
        ReceiveGroup = group,
        LocalAddress = localAddress ?? System.Net.IPAddress.Loopback,
    };

    private static async Task<FanoutFigures> MeasureOursAsync(int subscribers, int seconds, int bitrate, int warmup)
    {
        await using var system = await BenchmarkSystem.StartAsync("us-east-1");
        int nodePid = system.NodePid("us-east-1");
        var meeting = await system.Api.CreateMeetingAsync("us-east-1");
        var url = system.SignalingUrl(meeting);
        var metricsUrl = new Uri($"http://{url.Host}:{url.Port}/metrics");
        var presenter = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "presenter");
        var audience = new List<Webinar.TestSupport.Systems.ApiAttendee>();
        for (int i = 0; i < subscribers; i += 100)
        {
            audience.AddRange(await system.Api.BatchCreateAttendeesAsync(meeting.MeetingId,
                Enumerable.Range(i, Math.Min(100, subscribers - i)).Select(n => "viewer-" + n.ToString(CultureInfo.InvariantCulture))));
        }

        // The warm-up joins another meeting on the same node: the measured one is at its cap of 250.
        var warmMeeting = await system.Api.CreateMeetingAsync("us-east-1");
        var warmupAudience = warmup == 0 ? [] : await system.Api.BatchCreateAttendeesAsync(warmMeeting.MeetingId,
            Enumerable.Range(0, warmup).Select(n => "warm-" + n.ToString(CultureInfo.InvariantCulture)));

        Console.WriteLine($"our node pid {nodePid} at {url}; {subscribers} subscribers, {seconds} s, video {bitrate / 1000} kbit/s");
        using var group = new ClientReceiveGroup(2);
        var options = GeneratorOptions(group);
        var peers = new List<SfuPeer>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            var publisher = await SfuPeer.JoinAsync(url, presenter.JoinToken, options, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo, bitrate);
            pump.Start();
            await Task.Delay(TimeSpan.FromSeconds(2));
            if (warmup > 0)
            {
                // A node that has served before has its DTLS and forwarding code compiled; so has a browser. A few
                // subscribers join and leave first so the storm below does not measure the JIT of either process.
                var warm = await StormAsync(system.SignalingUrl(warmMeeting), warmupAudience, options, new List<SfuPeer>(), requireMedia: false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up (another meeting, no media): {warm.Joined.Count} of {warmup} subscribers joined, connected and left ({warm.Time.TotalSeconds:0.00} s)"));
                foreach (var peer in warm.Peers)
                {
                    await peer.DisposeAsync();
                }

                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            long rssBefore = ProcessMemory.ResidentBytes(nodePid);
            var metricsBefore = await NodeScrape.ReadAsync(http, metricsUrl);
            var cpuBefore = FanoutSnapshot.Take(nodePid, [], []);

            // The join storm: every subscriber at once (signalling, ICE, DTLS), timed until the last one receives.
            var storm = await StormAsync(url, audience, options, peers);
            var cpuAfter = FanoutSnapshot.Take(nodePid, [], []);
            var receivers = storm.Joined;
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // the exporter caches a scrape for a moment
            long rssAfter = ProcessMemory.ResidentBytes(nodePid);
            var metricsAfter = await NodeScrape.ReadAsync(http, metricsUrl);
            double stormSeconds = (cpuAfter.Wall - cpuBefore.Wall).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"join storm: {receivers.Count} of {subscribers} subscribers joined and receiving {storm.Time.TotalSeconds:0.00} s after the first join (loadavg {ProcessCpu.LoadAverage()}); node memory +{(rssAfter - rssBefore) / 1024.0 / Math.Max(1, receivers.Count):0} KiB per subscriber (RSS {rssBefore / 1048576.0:0} -> {rssAfter / 1048576.0:0} MiB)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"during the storm: node CPU {100 * (cpuAfter.ServerCpu - cpuBefore.ServerCpu).TotalSeconds / stormSeconds:0} % of a core, generator CPU {100 * (cpuAfter.OwnCpu - cpuBefore.OwnCpu).TotalSeconds / stormSeconds:0} %; node UDP after it: {cpuAfter.ServerQueues}"));
            foreach (var (reason, count) in storm.Failures)
            {
                Console.WriteLine($"join storm failures: {count} x {reason}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"node DTLS: {metricsAfter.ServerHandshakes - metricsBefore.ServerHandshakes:0} server handshakes, {metricsAfter.ServerHandshakeFailures - metricsBefore.ServerHandshakeFailures:0} failed, {1000 * (metricsAfter.WorkerCpuSeconds - metricsBefore.WorkerCpuSeconds) / Math.Max(1, metricsAfter.ServerHandshakes - metricsBefore.ServerHandshakes):0.00} ms worker CPU each ({NodeScrape.FailuresBetween(metricsBefore, metricsAfter)})"));
            if (receivers.Count == 0)
            {
                throw new InvalidOperationException("No subscriber completed the join storm.");
            }

            Console.WriteLine($"all receiving (publisher: DTLS {publisher.Client.DtlsRole}, {publisher.Client.SrtpProfile}; generator: header-only receive on {group.Threads} threads); 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));
            ClientTrack[] sending = [publisher.SendAudio!, publisher.SendVideo!];
            var start = FanoutSnapshot.Take(nodePid, sending, receivers);
            var scrapeStart = await NodeScrape.ReadAsync(http, metricsUrl);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var end = FanoutSnapshot.Take(nodePid, sending, receivers);
            var scrapeEnd = await NodeScrape.ReadAsync(http, metricsUrl);
            pump.Stop();
            var figures = new FanoutFigures("ours", receivers.Count, start, end);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"node /metrics over the window: {(scrapeEnd.Forwarded - scrapeStart.Forwarded) / figures.Seconds:0} forwarded/s, media thread busy {100 * scrapeEnd.MediaBusy:0} % (last second), {(scrapeEnd.MediaCpuSeconds - scrapeStart.MediaCpuSeconds) / figures.Seconds * 100:0} % of a core on the media thread"));
            Console.WriteLine("node counters over the window: " + NodeScrape.Changed(scrapeStart, scrapeEnd,
                "webinar_sfu_dropped", "webinar_sfu_datagrams", "webinar_sfu_rtp", "webinar_sfu_keyframe", "webinar_sfu_rtcp"));
            return figures;
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

    private sealed record StormResult(List<WebRtcClient> Joined, List<SfuPeer> Peers, TimeSpan Time, IReadOnlyDictionary<string, int> Failures);

    /// <summary>
    /// Every attendee joins at once (signalling, ICE, DTLS); returns those that received RTP, when the last one did,
    /// and why the others failed (a storm that loses a few subscribers is reported, not aborted).
    /// </summary>
    private static async Task<StormResult> StormAsync(Uri url, IReadOnlyList<Webinar.TestSupport.Systems.ApiAttendee> attendees, WebRtcClientOptions options, List<SfuPeer> peers, bool requireMedia = true)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var joins = attendees.Select(async attendee =>
        {
            SfuPeer? subscriber = null;
            try
            {
                subscriber = await SfuPeer.JoinAsync(url, attendee.JoinToken, options, publish: false);
                lock (peers)
                {
                    peers.Add(subscriber);
                }

                await subscriber.Client.ConnectedAsync(TimeSpan.FromSeconds(60));
                var deadline = clock.Elapsed + TimeSpan.FromSeconds(30);
                while (requireMedia && subscriber.Client.Received.Sum(r => r.Packets) == 0)
                {
                    if (clock.Elapsed > deadline)
                    {
                        throw new TimeoutException("connected but no RTP within 30 s");
                    }

                    await Task.Delay(20);
                }

                return (Client: subscriber.Client, clock.Elapsed);
            }
            catch (Exception e)
            {
                var reason = e is Webinar.Media.Dtls.DtlsHandshakeException dtls ? "DTLS " + dtls.Error + ": " + dtls.Message : e.GetType().Name + ": " + e.Message;
                failures.AddOrUpdate(reason, 1, (_, n) => n + 1);
                return (Client: (WebRtcClient?)null, clock.Elapsed);
            }
        }).ToArray();
        var results = await Task.WhenAll(joins);
        var joined = results.Where(r => r.Client is not null).Select(r => r.Client!).ToList();
        var time = joined.Count > 0 ? results.Where(r => r.Client is not null).Max(r => r.Elapsed) : clock.Elapsed;
        return new StormResult(joined, peers, time, failures);
    }
}
