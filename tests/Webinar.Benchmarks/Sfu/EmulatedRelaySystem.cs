using System.Globalization;
using System.Net;
using Webinar.TestSupport.Systems;
using Webinar.TestSupport.Network;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Two node processes (a primary's region and a replica's) whose relay addresses are stand-ins (127.0.0.2, 127.0.0.3,
/// same port) for a <see cref="UdpLinkEmulator"/> between them, so the relay crosses an emulated distance; with a
/// <c>busDelay</c>, the replica's node also reaches RabbitMQ through a TCP forwarder of that one-way delay (the broker
/// in the primary's region).
/// </summary>
internal sealed class EmulatedRelaySystem(string primaryRegion, string replicaRegion, TimeSpan? busDelay) : WebinarSystemFixture
{
    private TcpDelayForwarder? _bus;

    public override IReadOnlyList<string> NodeRegions => [primaryRegion, replicaRegion];

    public IPAddress StandIn(string region) => IPAddress.Parse(region == primaryRegion ? "127.0.0.2" : "127.0.0.3");

    protected override void ConfigureNode(string region, IDictionary<string, string> environment)
    {
        base.ConfigureNode(region, environment);
        environment["WEBINAR_SFU_MEDIA_ADDRESSES"] = $"127.0.0.1={StandIn(region)}";
        if (busDelay is { } delay && region == replicaRegion)
        {
            var broker = new IPEndPoint(IPAddress.Parse(environment["WEBINAR_RABBITMQ_HOST"]), int.Parse(environment["WEBINAR_RABBITMQ_PORT"], CultureInfo.InvariantCulture));
            _bus = new TcpDelayForwarder(new IPEndPoint(IPAddress.Loopback, 0), broker, new LinkProfile(delay), new LinkProfile(delay));
            environment["WEBINAR_RABBITMQ_HOST"] = "127.0.0.1";
            environment["WEBINAR_RABBITMQ_PORT"] = _bus.EndPoint.Port.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The relay path between the two nodes' real sockets and their stand-ins, shaped each way as given.</summary>
    public UdpLinkEmulator StartRelayLink(LinkProfile primaryToReplica, LinkProfile replicaToPrimary)
    {
        var primary = Node(primaryRegion);
        var replica = Node(replicaRegion);
        return new UdpLinkEmulator(
            new IPEndPoint(IPAddress.Loopback, primary.UdpPort), new IPEndPoint(StandIn(primaryRegion), primary.UdpPort),
            new IPEndPoint(IPAddress.Loopback, replica.UdpPort), new IPEndPoint(StandIn(replicaRegion), replica.UdpPort),
            primaryToReplica, replicaToPrimary);
    }

    /// <summary>For a client beside <paramref name="region"/>'s node: its answer's candidates at the node's real socket.</summary>
    public Func<string, string> AtNode(string region)
    {
        var real = new IPEndPoint(IPAddress.Loopback, Node(region).UdpPort);
        return sdp => CandidatesVia(sdp, real);
    }

    /// <summary>An answer with every UDP candidate pointing at <paramref name="via"/> (the emulated path) and no TCP ones.</summary>
    public static string CandidatesVia(string sdp, IPEndPoint via)
    {
        var lines = sdp.Split("\r\n");
        var kept = new List<string>(lines.Length);
        foreach (var line in lines)
        {
            if (!line.StartsWith("a=candidate:", StringComparison.Ordinal))
            {
                kept.Add(line);
                continue;
            }

            var parts = line.Split(' ');
            if (parts.Length > 5 && parts[2].Equals("udp", StringComparison.OrdinalIgnoreCase))
            {
                parts[4] = via.Address.ToString();
                parts[5] = via.Port.ToString(CultureInfo.InvariantCulture);
                kept.Add(string.Join(' ', parts));
            }
        }

        return string.Join("\r\n", kept);
    }

    public void DisposeBus() => _bus?.Dispose();
}
