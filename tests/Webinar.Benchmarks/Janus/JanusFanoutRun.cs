using System.Diagnostics;
using System.Globalization;
using Webinar.Media.Client;
using Webinar.Media.Dtls;

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

        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        Console.WriteLine($"Janus pid {janus.ProcessId} at {janus.BaseUri}, ICE on {janus.IceAddress}; {subscribers} subscribers, {seconds} s, video {bitrate / 1000} kbit/s");

        // One certificate for every client: only its fingerprint matters, and each association still has its own keys.
        var options = new WebRtcClientOptions { LocalAddress = janus.IceAddress, Certificate = DtlsCertificate.Generate() };
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

            var receivers = new List<WebRtcClient>(subscribers);
            for (int i = 0; i < subscribers; i++)
            {
                var subscriber = new WebRtcClient(options);
                clients.Add(subscriber);
                receivers.Add(subscriber);
                await JanusPeers.SubscribeAsync(session, room, feed, subscriber);
            }

            foreach (var subscriber in receivers)
            {
                await subscriber.ConnectedAsync(TimeSpan.FromSeconds(30));
            }

            Console.WriteLine($"all connected (publisher: DTLS {publisher.DtlsRole}, {publisher.SrtpProfile}; subscribers: DTLS {receivers[0].DtlsRole}, {receivers[0].SrtpProfile}); 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));

            var start = Snapshot.Take(janus, audio, video, receivers);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var end = Snapshot.Take(janus, audio, video, receivers);
            pump.Stop();

            Report(subscribers, start, end);
            return 0;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static void Report(int subscribers, Snapshot start, Snapshot end)
    {
        double wall = (end.Wall - start.Wall).TotalSeconds;
        long sent = end.Sent - start.Sent;
        long received = end.Received - start.Received;
        long expected = sent * subscribers;
        double janusCpu = (end.JanusCpu - start.JanusCpu).TotalSeconds / wall;
        double ourCpu = (end.OwnCpu - start.OwnCpu).TotalSeconds / wall;
        double forwardedPerSecond = received / wall;
        long gapLoss = end.Lost - start.Lost;
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"window                  {wall:0.0} s on {Environment.ProcessorCount} cores"));
        Console.WriteLine(string.Create(text, $"publisher sent          {sent / wall:0} packets/s ({(end.SentBytes - start.SentBytes) * 8 / wall / 1e6:0.00} Mbit/s payload)"));
        Console.WriteLine(string.Create(text, $"forwarded (received)    {forwardedPerSecond:0} packets/s to {subscribers} subscribers ({(end.ReceivedBytes - start.ReceivedBytes) * 8 / wall / 1e6:0.0} Mbit/s payload)"));
        Console.WriteLine(string.Create(text, $"delivery                {100.0 * received / Math.Max(1, expected):0.00} % of sent x subscribers; sequence-gap loss {gapLoss} packets ({100.0 * gapLoss / Math.Max(1, received + gapLoss):0.000} %)"));
        Console.WriteLine(string.Create(text, $"Janus CPU               {100 * janusCpu:0.0} % of one core -> {forwardedPerSecond / Math.Max(janusCpu, 1e-6):0} forwarded packets per CPU-second"));
        Console.WriteLine(string.Create(text, $"C# load generator CPU   {100 * ourCpu:0.0} % of one core (publisher + {subscribers} subscribers, same machine)"));
    }

    private sealed record Snapshot(TimeSpan Wall, long Sent, long SentBytes, long Received, long ReceivedBytes, long Lost, TimeSpan JanusCpu, TimeSpan OwnCpu)
    {
        private static readonly Stopwatch Clock = Stopwatch.StartNew();

        public static Snapshot Take(JanusServer janus, ClientTrack audio, ClientTrack video, List<WebRtcClient> receivers)
        {
            long received = 0, bytes = 0, lost = 0;
            foreach (var subscriber in receivers)
            {
                foreach (var stats in subscriber.Received)
                {
                    received += stats.Packets;
                    bytes += stats.PayloadBytes;
                    lost += stats.Lost;
                }
            }

            return new Snapshot(Clock.Elapsed, audio.PacketsSent + video.PacketsSent, audio.BytesSent + video.BytesSent,
                received, bytes, lost, janus.ReadCpuTime(), Process.GetCurrentProcess().TotalProcessorTime);
        }
    }
}
