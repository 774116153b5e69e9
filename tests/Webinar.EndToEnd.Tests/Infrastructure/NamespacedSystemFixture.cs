using System.Globalization;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Two regions whose nodes run in network namespaces of their own, joined by a veth pair with <c>tc netem</c> delay on
/// both ends (40 ms each way), so the relay between them crosses a real round trip. The primary's namespace also holds a
/// private RabbitMQ (the other node reaches it over the delayed link). Each namespace has a second veth to the root
/// namespace, where the control plane and Chromium run: those root ends carry no address (the root namespace only gets
/// a host route to each namespace address through its veth, gone with the veth), and the namespaces route back to the
/// root through it. Everything is removed when the fixture is disposed, also after a failed start. Needs root.
/// </summary>
public sealed class NamespacedSystemFixture : WebinarSystemFixture
{
    public static readonly TimeSpan DelayEachWay = TimeSpan.FromMilliseconds(40);

    private readonly string _id = Guid.NewGuid().ToString("N")[..5];
    private readonly int _octet = Random.Shared.Next(100, 250);
    private readonly List<string> _namespaces = [];

    public override IReadOnlyList<string> NodeRegions => ["us-east-1", "eu-west-1"];

    public string PrimaryNamespace => $"webinar-{_id}-us";

    public string ReplicaNamespace => $"webinar-{_id}-eu";

    /// <summary>The us-east-1 node's address (and the private broker's), inside <see cref="PrimaryNamespace"/>.</summary>
    public string PrimaryAddress => $"10.{_octet}.1.2";

    /// <summary>The eu-west-1 node's address, inside <see cref="ReplicaNamespace"/>.</summary>
    public string ReplicaAddress => $"10.{_octet}.2.2";

    /// <summary>Whether the kernel took the netem delay; null before the network is set up, with the reason when not.</summary>
    public string? NetemError { get; private set; }

    protected override RabbitBroker CreateBroker() => new PrivateRabbitBroker(PrimaryAddress, PrimaryNamespace);

    protected override NodePlacement PlaceNode(string region) => region == "us-east-1"
        ? new NodePlacement(PrimaryAddress, PrimaryNamespace)
        : new NodePlacement(ReplicaAddress, ReplicaNamespace);

    /// <summary>One TCP handshake from the replica's namespace to the broker in the primary's (the best of five), in ms: the RTT the relay sees.</summary>
    public async Task<double> MeasureRoundTripAsync()
    {
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var script = $"s=$(date +%s%N); exec 3<>/dev/tcp/{PrimaryAddress}/{Broker.Port}; e=$(date +%s%N); echo $(( (e - s) / 1000 ))";
            var micros = await RepositoryTools.RunAsync("ip", ["netns", "exec", ReplicaNamespace, "bash", "-c", script], null);
            best = Math.Min(best, long.Parse(micros.Trim(), CultureInfo.InvariantCulture) / 1000.0);
        }

        return best;
    }

    protected override async Task PrepareNetworkAsync()
    {
        string us = PrimaryNamespace, eu = ReplicaNamespace;
        await AddNamespaceAsync(us);
        await AddNamespaceAsync(eu);

        // Root <-> each namespace: no address on the root end, a host route to the namespace's address through it.
        await RootLinkAsync(us, $"wb{_id}ru", $"wb{_id}ur", PrimaryAddress);
        await RootLinkAsync(eu, $"wb{_id}re", $"wb{_id}er", ReplicaAddress);

        // us <-> eu: the inter-region link, delayed both ways; each node reaches the other's address over it.
        await Ip("link", "add", $"wb{_id}ue", "type", "veth", "peer", "name", $"wb{_id}eu");
        await Ip("link", "set", $"wb{_id}ue", "netns", us);
        await Ip("link", "set", $"wb{_id}eu", "netns", eu);
        await Ip("-n", us, "addr", "add", $"10.{_octet}.0.1/30", "dev", $"wb{_id}ue");
        await Ip("-n", eu, "addr", "add", $"10.{_octet}.0.2/30", "dev", $"wb{_id}eu");
        await Ip("-n", us, "link", "set", $"wb{_id}ue", "up");
        await Ip("-n", eu, "link", "set", $"wb{_id}eu", "up");
        // From the announced address (src): a relay link accepts packets only from its peer's announced address.
        await Ip("-n", us, "route", "add", ReplicaAddress + "/32", "via", $"10.{_octet}.0.2", "src", PrimaryAddress);
        await Ip("-n", eu, "route", "add", PrimaryAddress + "/32", "via", $"10.{_octet}.0.1", "src", ReplicaAddress);
        try
        {
            var delay = $"{DelayEachWay.TotalMilliseconds:0}ms";
            await Ip("netns", "exec", us, "tc", "qdisc", "add", "dev", $"wb{_id}ue", "root", "netem", "delay", delay);
            await Ip("netns", "exec", eu, "tc", "qdisc", "add", "dev", $"wb{_id}eu", "root", "netem", "delay", delay);
        }
        catch (InvalidOperationException e)
        {
            NetemError = e.Message;
        }
    }

    protected override async Task CleanUpNetworkAsync()
    {
        foreach (var ns in _namespaces)
        {
            await NetworkNamespaces.RemoveAsync(ns);
        }

        _namespaces.Clear();
    }

    private async Task AddNamespaceAsync(string ns)
    {
        await Ip("netns", "add", ns);
        _namespaces.Add(ns);
        await Ip("-n", ns, "link", "set", "lo", "up");
    }

    private async Task RootLinkAsync(string ns, string rootEnd, string nsEnd, string address)
    {
        await Ip("link", "add", rootEnd, "type", "veth", "peer", "name", nsEnd);
        await Ip("link", "set", nsEnd, "netns", ns);
        await Ip("-n", ns, "addr", "add", address + "/32", "dev", nsEnd);
        await Ip("-n", ns, "link", "set", nsEnd, "up");
        await Ip("link", "set", rootEnd, "up");
        await Ip("route", "add", address + "/32", "dev", rootEnd);
        await Ip("-n", ns, "route", "add", "default", "dev", nsEnd);
    }

    private static Task<string> Ip(params string[] args) => RepositoryTools.RunAsync("ip", args, null);
}
