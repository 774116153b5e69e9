using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Media.Client;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Relay cost: CPU of the primary's node (us-east-1) with one publisher (Opus 50 packets/s + VP8 about 1.5 Mbit/s) and
/// 0, then 1, then 2 replica nodes subscribed (replicas in eu-west-1 and ap-southeast-1, each with one C# subscriber),
/// one window of <c>--seconds</c> each after a warm-up; reports CPU per window and per added replica node.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- relay-cost --seconds 15</code>
/// </summary>
internal static class RelayCostRun
{
    public const string Verb = "relay-cost";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 15, 1, 120);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        await using var system = await BenchmarkSystem.StartAsync("us-east-1", "eu-west-1", "ap-southeast-1");
        int primaryNode = system.NodePid("us-east-1");
        var primary = await system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var receivers = new List<WebRtcClient>();
        var windows = new List<FanoutFigures>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(system.SignalingUrl(primary), presenter.JoinToken, clientOptions, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo);
            pump.Start();
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
                var start = FanoutSnapshot.Take(primaryNode, sending, receivers);
                await Task.Delay(TimeSpan.FromSeconds(seconds));
                var end = FanoutSnapshot.Take(primaryNode, sending, receivers);
                var window = new FanoutFigures($"{replicas} replica node(s)", Math.Max(1, receivers.Count), start, end);
                windows.Add(window);
                window.Print();
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

    private static void Report(List<FanoutFigures> windows)
    {
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| Replica nodes subscribed | primary node CPU (% of one core) | added per replica node (points) | publisher packets/s | received at replica subscribers (packets/s) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        for (int i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            string added = i == 0 ? "—" : string.Create(text, $"{100 * (w.ServerCpu - windows[i - 1].ServerCpu):+0.00;-0.00}");
            Console.WriteLine(string.Create(text, $"| {i} | {100 * w.ServerCpu:0.00} | {added} | {w.SentPerSecond:0} | {(i == 0 ? 0 : w.ForwardedPerSecond):0} |"));
        }

        double perReplica = (windows[^1].ServerCpu - windows[0].ServerCpu) / (windows.Count - 1);
        Console.WriteLine(string.Create(text, $"mean CPU per added replica node: {100 * perReplica:0.00} % of one core (loadavg {ProcessCpu.LoadAverage()})"));
    }
}
