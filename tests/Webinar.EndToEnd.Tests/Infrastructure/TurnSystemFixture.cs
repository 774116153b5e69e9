using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Webinar.TestSupport;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One region whose node clients can reach only through a real coturn, with every listener on TLS:
/// <list type="bullet">
/// <item>The node runs in a network namespace of its own. Its media address (the one it announces in ICE candidates) is
/// unreachable from the root namespace, where Chromium and the control plane run (an <c>unreachable</c> route); only
/// its signalling address (a second address on the same veth, which also holds the private broker) is routed.</item>
/// <item>coturn (Debian's turnserver, configured by <c>infra/coturn conf</c> exactly as infra/up runs it) runs in a
/// second namespace, reachable from the root namespace and joined to the node's namespace by a veth pair of their
/// own: the only path to the node's media address.</item>
/// <item>The control plane mints TURN credentials with coturn's shared secret; the control plane's HTTPS listener,
/// the node's WSS listener and coturn's TLS listener use a certificate from <c>infra/dev-certs</c> (a fresh
/// development CA, RSA-3072).</item>
/// </list>
/// Join tokens (and so TURN credentials) live <see cref="TokenLifetime"/>. Everything is removed on dispose. Needs root.
/// </summary>
public sealed class TurnSystemFixture : WebinarSystemFixture
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(60);

    private readonly string _id = Guid.NewGuid().ToString("N")[..5];
    private readonly int _octet = Random.Shared.Next(100, 250);
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootRoutes = [];
    private Process? _coturn;
    private readonly System.Text.StringBuilder _coturnLog = new();

    public override IReadOnlyList<string> NodeRegions => ["us-east-1"];

    public string NodeNamespace => $"webinar-{_id}-node";

    public string TurnNamespace => $"webinar-{_id}-turn";

    /// <summary>The node's media address: announced in its candidates, unreachable except through coturn.</summary>
    public string NodeMediaAddress => $"10.{_octet}.1.2";

    /// <summary>
    /// The node's signalling address (and the private broker's), routed from the root namespace. A public-looking
    /// documentation address (RFC 5737), like the machine's own 192.0.2.2: Chromium's Local Network Access checks refuse a
    /// page from a public address opening a private (10.x) one, as they would for a real deployment's public demo.
    /// </summary>
    public string NodeSignalingAddress => $"198.51.100.{_octet}";

    /// <summary>coturn's listening and relay address.</summary>
    public string TurnAddress => $"10.{_octet}.3.2";

    public int TurnPort => 3478;

    public int TurnsPort => 5349;

    public string TurnSecret { get; } = "turn-" + Guid.NewGuid().ToString("N");

    public int HttpsPort { get; } = FreeTcpPort();

    public int WssPort => 8451;

    public string CertificateDirectory { get; } = Directory.CreateTempSubdirectory("webinar-e2e-tls-").FullName;

    public string CaFile => Path.Combine(CertificateDirectory, "ca.pem");

    public X509Certificate2 Ca => X509CertificateLoader.LoadCertificateFromFile(CaFile);

    /// <summary>The control plane's HTTPS address on this machine's first non-loopback address (what another host opens): not a secure context without TLS.</summary>
    public Uri HttpsAddress => new($"https://{MachineAddress}:{HttpsPort}/");

    public static string MachineAddress =>
        Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString()
        ?? "127.0.0.1";

    public string TurnUrls => $"turn:{TurnAddress}:{TurnPort}?transport=udp turn:{TurnAddress}:{TurnPort}?transport=tcp turns:{TurnAddress}:{TurnsPort}?transport=tcp";

    public override string Logs() => base.Logs() + Environment.NewLine + CoturnLog();

    public string CoturnLog()
    {
        lock (_coturnLog)
        {
            return _coturnLog.ToString();
        }
    }

    protected override RabbitBroker CreateBroker() => new PrivateRabbitBroker(NodeSignalingAddress, NodeNamespace);

    protected override NodePlacement PlaceNode(string region) => new(NodeSignalingAddress, NodeNamespace);

    protected override void ConfigureControlPlane(IDictionary<string, string> environment)
    {
        environment["WEBINAR_TURN_SECRET"] = TurnSecret;
        environment["WEBINAR_TURN_URLS"] = TurnUrls;
        environment["WEBINAR_TLS_CERT_FILE"] = Path.Combine(CertificateDirectory, "server.pem");
        environment["WEBINAR_TLS_KEY_FILE"] = Path.Combine(CertificateDirectory, "server.key.pem");
        environment["WEBINAR_HTTPS_PORT"] = HttpsPort.ToString(CultureInfo.InvariantCulture);
        environment["JoinTokens__Lifetime"] = TokenLifetime.ToString("c", CultureInfo.InvariantCulture);
    }

    protected override void ConfigureNode(string region, IDictionary<string, string> environment)
    {
        // Media listens and is announced on the address only coturn can reach; signalling on the routed one.
        environment["WEBINAR_SFU_MEDIA_ADDRESSES"] = NodeMediaAddress;
        environment["WEBINAR_SFU_SIGNALING_HOST"] = NodeSignalingAddress;
        environment["WEBINAR_TLS_CERT_FILE"] = Path.Combine(CertificateDirectory, "server.pem");
        environment["WEBINAR_TLS_KEY_FILE"] = Path.Combine(CertificateDirectory, "server.key.pem");
        environment["WEBINAR_SFU_WSS_PORT"] = WssPort.ToString(CultureInfo.InvariantCulture);
    }

    protected override async Task PrepareNetworkAsync()
    {
        await RepositoryTools.RunAsync(Path.Combine(RepositoryRoot.Path, "infra", "dev-certs"), [CertificateDirectory, NodeSignalingAddress, TurnAddress], null);

        string node = NodeNamespace, turn = TurnNamespace;
        await AddNamespaceAsync(node);
        await AddNamespaceAsync(turn);

        // Root <-> node: both addresses on the namespace's end; the root routes only the signalling one.
        await Ip("link", "add", $"wb{_id}rn", "type", "veth", "peer", "name", $"wb{_id}nr");
        await Ip("link", "set", $"wb{_id}nr", "netns", node);
        await Ip("-n", node, "addr", "add", NodeMediaAddress + "/32", "dev", $"wb{_id}nr");
        await Ip("-n", node, "addr", "add", NodeSignalingAddress + "/32", "dev", $"wb{_id}nr");
        await Ip("-n", node, "link", "set", $"wb{_id}nr", "up");
        await Ip("link", "set", $"wb{_id}rn", "up");
        await RootRouteAsync(NodeSignalingAddress + "/32", "dev", $"wb{_id}rn");
        await RootRouteAsync("unreachable", NodeMediaAddress + "/32");
        await Ip("-n", node, "route", "add", "default", "dev", $"wb{_id}nr", "src", NodeSignalingAddress);

        // Root <-> coturn.
        await Ip("link", "add", $"wb{_id}rt", "type", "veth", "peer", "name", $"wb{_id}tr");
        await Ip("link", "set", $"wb{_id}tr", "netns", turn);
        await Ip("-n", turn, "addr", "add", TurnAddress + "/32", "dev", $"wb{_id}tr");
        await Ip("-n", turn, "link", "set", $"wb{_id}tr", "up");
        await Ip("link", "set", $"wb{_id}rt", "up");
        await RootRouteAsync(TurnAddress + "/32", "dev", $"wb{_id}rt");
        await Ip("-n", turn, "route", "add", "default", "dev", $"wb{_id}tr");

        // coturn <-> node media: the relay's only way in, each side sending from its own address.
        await Ip("link", "add", $"wb{_id}tn", "type", "veth", "peer", "name", $"wb{_id}nt");
        await Ip("link", "set", $"wb{_id}tn", "netns", turn);
        await Ip("link", "set", $"wb{_id}nt", "netns", node);
        await Ip("-n", turn, "addr", "add", $"10.{_octet}.0.1/30", "dev", $"wb{_id}tn");
        await Ip("-n", node, "addr", "add", $"10.{_octet}.0.2/30", "dev", $"wb{_id}nt");
        await Ip("-n", turn, "link", "set", $"wb{_id}tn", "up");
        await Ip("-n", node, "link", "set", $"wb{_id}nt", "up");
        await Ip("-n", turn, "route", "add", NodeMediaAddress + "/32", "via", $"10.{_octet}.0.2", "src", TurnAddress);
        await Ip("-n", node, "route", "add", TurnAddress + "/32", "via", $"10.{_octet}.0.1", "src", NodeMediaAddress);

        await StartCoturnAsync();
    }

    protected override async Task CleanUpNetworkAsync()
    {
        if (_coturn is { HasExited: false })
        {
            _coturn.Kill(entireProcessTree: true);
            await _coturn.WaitForExitAsync();
        }

        _coturn?.Dispose();
        foreach (var ns in _namespaces)
        {
            await NetworkNamespaces.RemoveAsync(ns);
        }

        _namespaces.Clear();
        foreach (var route in _rootRoutes)
        {
            try
            {
                await RepositoryTools.RunAsync("ip", ["route", "del", .. route.Split(' ')], null);
            }
            catch (InvalidOperationException)
            {
                // Gone with its veth.
            }
        }

        _rootRoutes.Clear();
        Directory.Delete(CertificateDirectory, recursive: true);
    }

    private async Task StartCoturnAsync()
    {
        var data = Path.Combine(CertificateDirectory, "coturn");
        var conf = (await RepositoryTools.RunAsync(Path.Combine(RepositoryRoot.Path, "infra", "coturn"), ["conf"], new Dictionary<string, string>
        {
            ["WEBINAR_DATA_DIR"] = data,
            ["WEBINAR_TURN_SECRET"] = TurnSecret,
            ["WEBINAR_TURN_PORT"] = TurnPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_TURNS_PORT"] = TurnsPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_TURN_LISTEN_IPS"] = TurnAddress,
            ["WEBINAR_TURN_ALLOWED_PEERS"] = NodeMediaAddress,
            ["WEBINAR_TLS_CERT_FILE"] = Path.Combine(CertificateDirectory, "server.pem"),
            ["WEBINAR_TLS_KEY_FILE"] = Path.Combine(CertificateDirectory, "server.key.pem"),
            ["WEBINAR_TURN_LOG_FILE"] = "stdout",
        })).Trim();

        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", TurnNamespace, "turnserver", "-c", conf })
        {
            start.ArgumentList.Add(a);
        }

        _coturn = new Process { StartInfo = start };
        _coturn.OutputDataReceived += (_, e) => AppendCoturn(e.Data);
        _coturn.ErrorDataReceived += (_, e) => AppendCoturn(e.Data);
        _coturn.Start();
        _coturn.BeginOutputReadLine();
        _coturn.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!CoturnLog().Contains("turn server id=", StringComparison.Ordinal))
        {
            if (_coturn.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("coturn did not start:\n" + CoturnLog());
            }

            await Task.Delay(100);
        }
    }

    private void AppendCoturn(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_coturnLog)
        {
            _coturnLog.AppendLine("[coturn] " + line);
        }
    }

    private async Task AddNamespaceAsync(string ns)
    {
        await Ip("netns", "add", ns);
        _namespaces.Add(ns);
        await Ip("-n", ns, "link", "set", "lo", "up");
    }

    private async Task RootRouteAsync(params string[] route)
    {
        await Ip(["route", "add", .. route]);
        _rootRoutes.Add(string.Join(' ', route));
    }

    private static Task<string> Ip(params string[] args) => RepositoryTools.RunAsync("ip", args, null);
}
