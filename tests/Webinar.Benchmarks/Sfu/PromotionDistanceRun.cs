using System.Diagnostics;
using System.Globalization;
using System.Net;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.TestSupport.Network;
using Webinar.TestSupport.Systems;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Promotion over emulated distances: the primary's node in us-east-1, the replica's in eu-west-1, each a
/// real node process; the speaker's client sits near the replica (client↔replica node 20 ms RTT), the relay between
/// the nodes crosses 80 ms RTT, and the speaker's client reaches the primary's node over 100 ms RTT. The primary's
/// presenter and subscriber sit at the primary's node (no delay), and RabbitMQ is in the primary's region: the replica
/// node's bus connection crosses 80 ms RTT too (<c>--bus-delay false</c> puts it next to both nodes). Signalling goes
/// through <see cref="TcpDelayForwarder"/>s, client media through <see cref="UdpDelayForwarder"/>s, the relay through a
/// <see cref="UdpLinkEmulator"/> (each node announces a stand-in loopback address, so each sees the other at its
/// announced address). <b>promote</b>: a pre-negotiated replica attendee (send slots offered at join) sends
/// <c>promote</c> and, on <c>promoted</c>, starts sending on its send slot (no offer); the primary subscriber
/// (pre-negotiated) gets the stream on a spare slot (no renegotiation). <b>rejoin</b>: leave the replica, join the
/// primary's node afresh over the 100 ms path (new WebSocket, ICE and DTLS). Both are timed from the decision to the
/// first stamped audio packet (sent every 2 ms from the moment it may send) at the primary subscriber.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- promote-distance --attempts 10</code>
/// </summary>
internal static class PromotionDistanceRun
{
    public const string Verb = "promote-distance";
    private const string Primary = "us-east-1";
    private const string Replica = "eu-west-1";
    private static readonly TimeSpan ClientToReplica = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan ClientToPrimary = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan NodeToNode = TimeSpan.FromMilliseconds(40);

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--attempts", "--bus-delay"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int attempts = options.Int("--attempts", 10, 1, 50);
        bool busDelay = options.Text("--bus-delay", "true") != "false";
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var system = new EmulatedRelaySystem(Primary, Replica, busDelay ? NodeToNode : null);
        try
        {
            await system.InitializeAsync();
            return await RunAsync(system, attempts, busDelay, cpuBefore);
        }
        finally
        {
            await system.DisposeAsync();
            system.DisposeBus();
        }
    }

    private static async Task<int> RunAsync(EmulatedRelaySystem system, int attempts, bool busDelay, TimeSpan cpuBefore)
    {
        using var relay = system.StartRelayLink(new LinkProfile(NodeToNode), new LinkProfile(NodeToNode));
        var primaryNode = system.Node(Primary);
        var replicaNode = system.Node(Replica);
        var loopback = IPAddress.Loopback;
        using var replicaSignaling = new TcpDelayForwarder(new IPEndPoint(loopback, 0), new IPEndPoint(loopback, replicaNode.WsPort),
            new LinkProfile(ClientToReplica), new LinkProfile(ClientToReplica));
        using var replicaMedia = new UdpDelayForwarder(new IPEndPoint(loopback, 0), new IPEndPoint(loopback, replicaNode.UdpPort),
            new LinkProfile(ClientToReplica), new LinkProfile(ClientToReplica));
        using var primarySignaling = new TcpDelayForwarder(new IPEndPoint(loopback, 0), new IPEndPoint(loopback, primaryNode.WsPort),
            new LinkProfile(ClientToPrimary), new LinkProfile(ClientToPrimary));
        using var primaryMedia = new UdpDelayForwarder(new IPEndPoint(loopback, 0), new IPEndPoint(loopback, primaryNode.UdpPort),
            new LinkProfile(ClientToPrimary), new LinkProfile(ClientToPrimary));
        var farReplica = new Uri($"ws://127.0.0.1:{replicaSignaling.EndPoint.Port}/signal");
        var farPrimary = new Uri($"ws://127.0.0.1:{primarySignaling.EndPoint.Port}/signal");
        var nearPrimary = primaryNode.SignalingUrl;
        Func<string, string> viaReplicaLink = sdp => EmulatedRelaySystem.CandidatesVia(sdp, replicaMedia.EndPoint);
        Func<string, string> viaPrimaryLink = sdp => EmulatedRelaySystem.CandidatesVia(sdp, primaryMedia.EndPoint);
        Func<string, string> atPrimary = sdp => EmulatedRelaySystem.CandidatesVia(sdp, new IPEndPoint(loopback, primaryNode.UdpPort));

        var primary = await system.Api.CreateMeetingAsync(Primary);
        var replica = await system.Api.CreateMeetingAsync(Replica, primary.MeetingId);
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var viewer = await system.Api.CreateAttendeeAsync(primary.MeetingId, "primary-viewer");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var promoteTimes = new List<long>();
        var rejoinTimes = new List<long>();
        var promotedReplies = new List<long>();
        var replicaJoins = new List<long>();
        var primaryJoins = new List<long>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(nearPrimary, presenter.JoinToken, clientOptions, publish: true, rewriteAnswer: atPrimary);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var presenterMedia = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo);
            presenterMedia.Start();
            var subscriber = await SfuPeer.JoinAsync(nearPrimary, viewer.JoinToken, clientOptions, publish: false, preNegotiate: true, rewriteAnswer: atPrimary);
            peers.Add(subscriber);
            var arrivals = new LatencyRecorder();
            arrivals.Attach(subscriber.Client);
            await subscriber.Client.ConnectedAsync(TimeSpan.FromSeconds(15));

            for (int attempt = 1; attempt <= attempts * 2; attempt++)
            {
                bool promote = attempt % 2 == 1;
                var audience = await system.Api.CreateAttendeeAsync(replica.MeetingId, "audience-" + attempt.ToString(CultureInfo.InvariantCulture));
                var speaker = await system.Api.CreateAttendeeAsync(primary.MeetingId, "speaker-" + attempt.ToString(CultureInfo.InvariantCulture), "SendReceive");
                long joining = Stopwatch.GetTimestamp();
                var replicaPeer = await SfuPeer.JoinAsync(farReplica, audience.JoinToken, clientOptions, publish: false, preNegotiate: true, rewriteAnswer: viaReplicaLink);
                await replicaPeer.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
                replicaJoins.Add(Stopwatch.GetTimestamp() - joining);
                await Task.Delay(TimeSpan.FromSeconds(1.5));

                long decided = Stopwatch.GetTimestamp();
                SfuPeer speaking;
                StampedPump pump;
                if (promote)
                {
                    var replied = await replicaPeer.PromoteAsync(speaker.JoinToken);
                    promotedReplies.Add(replied - decided);
                    speaking = replicaPeer;
                    pump = new StampedPump(speaking.Client, speaking.SendAudio!, video: null, TimeSpan.FromMilliseconds(2), 0, tag: attempt);
                    pump.Start();
                }
                else
                {
                    await replicaPeer.DisposeAsync();
                    speaking = await SfuPeer.JoinAsync(farPrimary, speaker.JoinToken, clientOptions, publish: true, rewriteAnswer: viaPrimaryLink);
                    pump = new StampedPump(speaking.Client, speaking.SendAudio!, video: null, TimeSpan.FromMilliseconds(2), 0, tag: attempt);
                    pump.Start();
                    await speaking.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
                    primaryJoins.Add(Stopwatch.GetTimestamp() - decided);
                }

                long? arrived = await arrivals.FirstArrivalAsync(attempt, TimeSpan.FromSeconds(20));
                pump.Dispose();
                string method = promote ? "promote" : "rejoin";
                if (arrived is { } at)
                {
                    (promote ? promoteTimes : rejoinTimes).Add(at - decided);
                    var detail = promote
                        ? string.Create(CultureInfo.InvariantCulture, $"promoted reply {Ms(promotedReplies[^1]):0.0} ms")
                        : string.Create(CultureInfo.InvariantCulture, $"connected to the primary's node {Ms(primaryJoins[^1]):0.0} ms");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"attempt {attempt,2} {method,-7} {Ms(at - decided),7:0.0} ms to the first packet at the primary subscriber ({detail})"));
                }
                else
                {
                    Console.WriteLine($"attempt {attempt,2} {method,-7} no packet at the primary subscriber within 20 s");
                }

                if (promote)
                {
                    await replicaPeer.DemoteAsync();
                }

                await speaking.DisposeAsync();
                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }

            presenterMedia.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            Report(promoteTimes, rejoinTimes, promotedReplies, replicaJoins, primaryJoins, subscriber.FailedRenegotiations, busDelay, cpu, relay);
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

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static void Report(List<long> promote, List<long> rejoin, List<long> promotedReplies, List<long> replicaJoins, List<long> primaryJoins,
        int failedRenegotiations, bool busDelay, TimeSpan cpu, UdpLinkEmulator relay)
    {
        var text = CultureInfo.InvariantCulture;
        double promoteMedian = Percentiles.MedianMillis(promote);
        double rejoinMedian = Percentiles.MedianMillis(rejoin);
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"loadavg {ProcessCpu.LoadAverage()}; load generator CPU {cpu.TotalSeconds:0.0} s; failed renegotiations at the primary subscriber: {failedRenegotiations}"));
        Console.WriteLine(string.Create(text, $"bus: {(busDelay ? "in the primary's region (replica node ↔ broker 80 ms RTT)" : "next to both nodes")}; relay link: {relay.Forwarded} datagrams, {relay.FromStrangers} from strangers"));
        Console.WriteLine("| Emulated three-region topology | attempts | median (ms) | min (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("promote (pre-negotiated) → first packet at a primary subscriber", promote);
        Row("  of which: promote → promoted reply", promotedReplies);
        Row("leave the replica, join the primary afresh → first packet", rejoin);
        Row("join at the replica's node (20 ms RTT): WebSocket → DTLS done", replicaJoins);
        Row("join at the primary's node (100 ms RTT): WebSocket → DTLS done", primaryJoins);
        Console.WriteLine(string.Create(text, $"ratio of medians promote/rejoin: {promoteMedian / rejoinMedian:0.00} (rejoin takes {rejoinMedian / promoteMedian:0.0}x as long)"));
        Console.WriteLine(string.Create(text, $"target: ≤ 20 ms (client↔replica RTT) + 40 ms (replica→primary one way) + 30 ms = 90 ms, and ≥ 5x faster than the rejoin"));

        void Row(string name, List<long> values) => Console.WriteLine(values.Count == 0
            ? $"| {name} | 0 | – | – | – |"
            : string.Create(text, $"| {name} | {values.Count} | {Percentiles.MedianMillis(values):0.0} | {Percentiles.Millis(values, 0):0.0} | {Percentiles.Millis(values, 100):0.0} |"));
    }
}
