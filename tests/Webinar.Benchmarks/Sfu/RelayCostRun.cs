using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Relay cost: CPU of the primary's node (us-east-1) with one publisher (Opus 50 packets/s + VP8 about 1.5 Mbit/s) and
/// 0, then 1, then 2 replica nodes subscribed (replicas in eu-west-1 and ap-southeast-1, each with one C# subscriber),
/// (<c>--bitrate</c> raises the video rate, to lift the per-link cost above the noise) <c>--windows</c> windows of <c>--seconds</c> each per state after a warm-up (the publisher runs 10 s before the
/// first, so JIT tiering is over); reports the mean and range of the node's CPU per state and per added replica node.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- relay-cost --seconds 8 --windows 3</code>
/// </summary>
internal static class RelayCostRun
{
    public const string Verb = "relay-cost";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds", "--windows", "--bitrate"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 8, 1, 120);
        int windowsPerState = options.Int("--windows", 3, 1, 20);
        int bitrate = options.Int("--bitrate", 1_500_000, 100_000, 20_000_000);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        await using var system = await BenchmarkSystem.StartAsync("us-east-1", "eu-west-1", "ap-southeast-1");
        int primaryNode = system.NodePid("us-east-1");
        var primary = await system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var receivers = new List<WebRtcClient>();
        var windows = new List<List<FanoutFigures>>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(system.SignalingUrl(primary), presenter.JoinToken, clientOptions, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo, bitrate);
            pump.Start();
            await Task.Delay(TimeSpan.FromSeconds(7));
            ClientTrack[] sending = [publisher.SendAudio!, publisher.SendVideo!];
            string[] replicaRegions = ["eu-west-1", "ap-southeast-1"];
            for (int replicas = 0; replicas <= replicaRegions.Length; replicas++)
            {
                if (replicas > 0)
                {
                    var replica = await system.Api.CreateMeetingAsync(replicaRegions[replicas - 1], primary.MeetingId);
                    var viewer = await system.Api.CreateAttendeeAsync(replica.MeetingId, "viewer-" + replicaRegions[replicas - 1]);
                    var subscriber = await SfuPeer.JoinAsync(system.SignalingUrl(replica), viewer.JoinToken, clientOptions, publish: false);
                    peers.Add(subscriber);
                    receivers.Add(subscriber.Client);
                    await subscriber.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
                    await WaitForMediaAsync(subscriber.Client, replicaRegions[replicas - 1]);
                }

                await Task.Delay(TimeSpan.FromSeconds(3));
                var state = new List<FanoutFigures>();
                for (int w = 0; w < windowsPerState; w++)
                {
                    var start = FanoutSnapshot.Take(primaryNode, sending, receivers);
                    await Task.Delay(TimeSpan.FromSeconds(seconds));
                    var end = FanoutSnapshot.Take(primaryNode, sending, receivers);
                    var window = new FanoutFigures($"{replicas} replica node(s), window {w + 1}", Math.Max(1, receivers.Count), start, end);
                    state.Add(window);
                    window.Print();
                }

                windows.Add(state);
            }

            pump.Stop();
            Report(windows);
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

    private static async Task WaitForMediaAsync(WebRtcClient subscriber, string region)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            long packets = 0;
            foreach (var stats in subscriber.Received)
            {
                packets += stats.Packets;
            }

            if (packets > 100)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The replica subscriber in {region} received no media within 20 s (the relay did not form).");
    }

    private static void Report(List<List<FanoutFigures>> states)
    {
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| Replica nodes subscribed | primary node CPU, mean (% of one core) | range over windows | added vs previous (points) | publisher packets/s | received at replica subscribers (packets/s) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        var means = new double[states.Count];
        for (int i = 0; i < states.Count; i++)
        {
            double sum = 0, min = double.MaxValue, max = double.MinValue, sent = 0, received = 0;
            foreach (var w in states[i])
            {
                sum += w.ServerCpu;
                min = Math.Min(min, w.ServerCpu);
                max = Math.Max(max, w.ServerCpu);
                sent += w.SentPerSecond;
                received += w.ForwardedPerSecond;
            }

            int n = states[i].Count;
            means[i] = sum / n;
            string added = i == 0 ? "—" : string.Create(text, $"{100 * (means[i] - means[i - 1]):+0.00;-0.00}");
            Console.WriteLine(string.Create(text, $"| {i} | {100 * means[i]:0.00} | {100 * min:0.00}–{100 * max:0.00} | {added} | {sent / n:0} | {(i == 0 ? 0 : received / n):0} |"));
        }

        double perReplica = (means[^1] - means[0]) / (means.Length - 1);
        Console.WriteLine(string.Create(text, $"mean CPU per added replica node: {100 * perReplica:0.00} % of one core (loadavg {ProcessCpu.LoadAverage()})"));
    }
}
