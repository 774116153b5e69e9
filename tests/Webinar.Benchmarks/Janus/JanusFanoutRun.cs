using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.TestSupport.Janus;

namespace Webinar.Benchmarks.Janus;

/// <summary>
/// Load run (not BenchmarkDotNet): one C# publisher (Opus 50 packets/s + VP8 about 1.5 Mbit/s at 30 fps) into a Janus
/// videoroom and N C# subscribers, all on this host. Reports what Janus forwarded per second, the loss the subscribers
/// saw, and Janus's CPU from /proc/&lt;pid&gt;/stat over the measured window — the same load can then be pointed at our
/// SFU node for a ratio. Bounded: it stops by itself after the warm-up plus <c>--seconds</c>.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- janus-fanout --subscribers 10 --seconds 20</code>
/// </summary>
internal static class JanusFanoutRun
{
    public const string Verb = "janus-fanout";

    public static async Task<int> RunAsync(string[] args)
    {
        int subscribers = 10;
        int seconds = 20;
        int bitrate = 1_500_000;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--subscribers":
                    subscribers = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--seconds":
                    seconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--bitrate":
                    bitrate = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: {Verb} [--subscribers N] [--seconds S] [--bitrate bps]");
                    return 2;
            }
        }

        if (subscribers is < 1 or > 500 || seconds is < 1 or > 600)
        {
            Console.Error.WriteLine("--subscribers must be 1..500 and --seconds 1..600");
            return 2;
        }

        var figures = await MeasureAsync(subscribers, seconds, bitrate);
        figures.Print();
        return 0;
    }

    /// <summary>Starts a private Janus, runs the load for a 3 s warm-up plus <paramref name="seconds"/>, and returns the window's figures.</summary>
    public static async Task<FanoutFigures> MeasureAsync(int subscribers, int seconds, int bitrate = 1_500_000)
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        Console.WriteLine($"Janus pid {janus.ProcessId} at {janus.BaseUri}, ICE on {janus.IceAddress}; {subscribers} subscribers, {seconds} s, video {bitrate / 1000} kbit/s");

        // One certificate for every client: only its fingerprint matters, and each association still has its own keys.
        using var group = new ClientReceiveGroup(2);
        var options = Sfu.SfuFanoutRun.GeneratorOptions(group, janus.IceAddress);
        var clients = new List<WebRtcClient>();
        try
        {
            var publisher = new WebRtcClient(options);
            clients.Add(publisher);
            var audio = publisher.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
            var video = publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
            long room = await JanusPeers.CreateRoomAsync(session);
            var (_, feed) = await JanusPeers.PublishAsync(session, room, publisher);
            await publisher.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new MediaPump(publisher, audio, video, bitrate);
            pump.Start();

            // The same storm as against our node: every subscriber at once (attach, join, Janus's offer, our answer,
            // start, ICE, DTLS), timed until the last one receives RTP.
            var storm = System.Diagnostics.Stopwatch.StartNew();
            var subscribing = Enumerable.Range(0, subscribers).Select(async _ =>
            {
                var subscriber = new WebRtcClient(options);
                lock (clients)
                {
                    clients.Add(subscriber);
                }

                await JanusPeers.SubscribeAsync(session, room, feed, subscriber);
                await subscriber.ConnectedAsync(TimeSpan.FromSeconds(60));
                while (subscriber.Received.Sum(r => r.Packets) == 0)
                {
                    await Task.Delay(20);
                }

                return (Client: subscriber, storm.Elapsed);
            }).ToArray();
            var joined = await Task.WhenAll(subscribing);
            var receivers = joined.Select(j => j.Client).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Janus join storm: {subscribers} subscribers joined and receiving {joined.Max(j => j.Elapsed).TotalSeconds:0.00} s after the first join (loadavg {ProcessCpu.LoadAverage()})"));

            Console.WriteLine($"all connected (publisher: DTLS {publisher.DtlsRole}, {publisher.SrtpProfile}; subscribers: DTLS {receivers[0].DtlsRole}, {receivers[0].SrtpProfile}); 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));

            ClientTrack[] sending = [audio, video];
            var start = FanoutSnapshot.Take(janus.ProcessId, sending, receivers);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var end = FanoutSnapshot.Take(janus.ProcessId, sending, receivers);
            pump.Stop();
            return new FanoutFigures("Janus", subscribers, start, end);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
