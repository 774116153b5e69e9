using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Relay overhead on loopback: a primary in us-east-1 and its replica in eu-west-1 (two node processes); one publisher
/// and one subscriber in the primary, one subscriber in the replica. The publisher stamps every audio packet (50/s) with
/// its send time and also sends VP8 at about 1.5 Mbit/s; each subscriber computes one-way latency per packet. Reports
/// p50/p99 at each subscriber and the relay overhead (replica − primary), both as a difference of percentiles and as
/// percentiles of the per-packet difference.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- relay-latency --seconds 15</code>
/// </summary>
internal static class RelayLatencyRun
{
    public const string Verb = "relay-latency";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 15, 1, 120);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        await using var system = await BenchmarkSystem.StartAsync("us-east-1", "eu-west-1");
        var primary = await system.Api.CreateMeetingAsync("us-east-1");
        var replica = await system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var primaryViewer = await system.Api.CreateAttendeeAsync(primary.MeetingId, "primary-viewer");
        var replicaViewer = await system.Api.CreateAttendeeAsync(replica.MeetingId, "replica-viewer");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(system.SignalingUrl(primary), presenter.JoinToken, clientOptions, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new StampedPump(publisher.Client, publisher.SendAudio!, publisher.SendVideo, TimeSpan.FromMilliseconds(20), 1_500_000, tag: 1);
            pump.Start();

            var audience = await RelayAudience.JoinAsync(
                (system.SignalingUrl(primary), primaryViewer.JoinToken, null), (system.SignalingUrl(replica), replicaViewer.JoinToken, null), clientOptions, peers);
            var (atPrimary, atReplica) = (audience.AtPrimary, audience.AtReplica);
            Console.WriteLine("media flows at both subscribers; 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));
            atPrimary.StartRecording();
            atReplica.StartRecording();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            atPrimary.StopRecording();
            atReplica.StopRecording();
            pump.Stop();
            Report(seconds, pump.StampedSent, atPrimary.Samples(), atReplica.Samples());
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

    private static void Report(int seconds, long stampedSent, Dictionary<long, long> primary, Dictionary<long, long> replica)
    {
        var paired = new List<long>();
        foreach (var (sent, latency) in replica)
        {
            if (primary.TryGetValue(sent, out long atPrimary))
            {
                paired.Add(latency - atPrimary);
            }
        }

        var primaryTicks = primary.Values.ToList();
        var replicaTicks = replica.Values.ToList();
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"window {seconds} s, stamped audio packets sent in total {stampedSent}; samples: primary {primary.Count}, replica {replica.Count}, paired {paired.Count} (loadavg {ProcessCpu.LoadAverage()})"));
        Console.WriteLine("| Subscriber | p50 (ms) | p99 (ms) |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine(string.Create(text, $"| primary (us-east-1 node) | {Percentiles.Millis(primaryTicks, 50):0.000} | {Percentiles.Millis(primaryTicks, 99):0.000} |"));
        Console.WriteLine(string.Create(text, $"| replica (eu-west-1 node, via relay) | {Percentiles.Millis(replicaTicks, 50):0.000} | {Percentiles.Millis(replicaTicks, 99):0.000} |"));
        Console.WriteLine(string.Create(text, $"| overhead: replica p − primary p | {Percentiles.Millis(replicaTicks, 50) - Percentiles.Millis(primaryTicks, 50):0.000} | {Percentiles.Millis(replicaTicks, 99) - Percentiles.Millis(primaryTicks, 99):0.000} |"));
        Console.WriteLine(string.Create(text, $"| overhead: per-packet difference | {Percentiles.Millis(paired, 50):0.000} | {Percentiles.Millis(paired, 99):0.000} |"));
    }
}
