using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Webinar.Contracts.JoinTokens;
using Webinar.TestSupport.Browser;
using Xunit;
using Xunit.Abstractions;

namespace Webinar.TestSupport.Systems;

/// <summary>
/// An SFU node: its identity, ports and environment stay the same across restarts; <see cref="Process"/> is the
/// process running it now.
/// </summary>
public sealed class SfuNode(string region, string nodeId, int wsPort, int udpPort, int tcpPort, string address, string? networkNamespace, IReadOnlyDictionary<string, string> environment)
{
    public string Region { get; } = region;

    public string NodeId { get; } = nodeId;

    public int WsPort { get; } = wsPort;

    public int UdpPort { get; } = udpPort;

    /// <summary>The ICE-TCP port (passive candidates), on every media address.</summary>
    public int TcpPort { get; } = tcpPort;

    /// <summary>The address its signalling listens on (127.0.0.1, or its namespace's address); media listens on every address.</summary>
    public string Address { get; } = address;

    public string? NetworkNamespace { get; } = networkNamespace;

    public IReadOnlyDictionary<string, string> Environment { get; } = environment;

    public ServiceProcess Process { get; internal set; } = null!;

    public Uri SignalingUrl => new($"ws://{Address}:{WsPort}/signal");
}

internal static class EnvironmentExtensions
{
    public static Dictionary<string, string> With(this Dictionary<string, string> environment, Action<Dictionary<string, string>> change)
    {
        change(environment);
        return environment;
    }
}

/// <summary>Where one region's node runs: loopback in the root namespace by default.</summary>
public sealed record NodePlacement(string Address, string? NetworkNamespace)
{
    public static readonly NodePlacement Loopback = new("127.0.0.1", null);
}

/// <summary>
/// The whole system as separate processes, the way infra/up starts it: the control plane and one SFU node per region,
/// from their built DLLs (src/*/bin/$WEBINAR_CONFIGURATION/net10.0), on the shared PostgreSQL and RabbitMQ with a
/// database and a virtual host of this fixture's own, and a freshly generated join-token key pair.
/// </summary>
public class WebinarSystemFixture : IAsyncLifetime
{
    public static readonly string[] Regions = ["us-east-1", "eu-west-1", "ap-southeast-1"];

    private readonly string _suffix = Guid.NewGuid().ToString("N");
    private readonly List<ServiceProcess> _processes = [];
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<SfuNode> _nodes = [];
    private string _keyDir = string.Empty;

    public string Database => "webinar_e2e_" + _suffix;

    public string VirtualHost => "webinar_e2e_" + _suffix;

    /// <summary>Where the control plane and the nodes keep archives (WEBINAR_ARCHIVE_DIR), removed with the fixture.</summary>
    public string ArchiveDirectory => Path.Combine(Path.GetTempPath(), "webinar-e2e-archives-" + _suffix);

    /// <summary>More variables for every service process (a subclass shortens a limit, for instance).</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraEnvironment { get; } = new Dictionary<string, string>();

    /// <summary>The regions this fixture runs a node in.</summary>
    public virtual IReadOnlyList<string> NodeRegions => Regions;

    public RabbitBroker Broker { get; private set; } = null!;

    public string ApiKey { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    public int HttpPort { get; } = FreePort(SocketType.Stream, ProtocolType.Tcp);

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    public ServiceProcess ControlPlane { get; private set; } = null!;

    public IReadOnlyList<SfuNode> Nodes => _nodes;

    public ControlPlaneApi Api { get; private set; } = null!;

    /// <summary>Signs tokens with the control plane's own key (for expired or foreign-meeting tokens in tests).</summary>
    public JoinTokenSigner Signer { get; private set; } = null!;

    public static int PgPort => EnvInt("WEBINAR_PG_PORT", 55432);

    public static int RabbitPort => EnvInt("WEBINAR_RABBITMQ_PORT", 55672);

    public SfuNode Node(string region) => Nodes.Single(n => n.Region == region);

    public async Task InitializeAsync()
    {
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            await PrepareNetworkAsync();
            Broker = CreateBroker();
            await Broker.StartAsync();
        }
        catch (Exception e)
        {
            await DisposeAsync();
            throw new InvalidOperationException("The fixture's network or broker did not start.", e);
        }

        _keyDir = Directory.CreateTempSubdirectory("webinar-e2e-keys-").FullName;
        var privatePem = Path.Combine(_keyDir, "join-token.key.pem");
        var publicPem = Path.Combine(_keyDir, "join-token.pub.pem");
        await File.WriteAllTextAsync(privatePem, _key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(publicPem, _key.ExportSubjectPublicKeyInfoPem());
        Signer = new JoinTokenSigner(_key);

        // Bus trust as infra/up provisions it: a key pair per principal, every public key in one directory.
        var trustDir = Path.Combine(_keyDir, "trust");
        Directory.CreateDirectory(Path.Combine(trustDir, "private"));
        foreach (var principal in NodeRegions.Select(NodeIdOf).Prepend("control-plane"))
        {
            using var busKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            await File.WriteAllTextAsync(Path.Combine(trustDir, "private", principal + ".key.pem"), busKey.ExportPkcs8PrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(trustDir, principal + ".pub.pem"), busKey.ExportSubjectPublicKeyInfoPem());
        }

        var common = new Dictionary<string, string>
        {
            ["WEBINAR_PG_HOST"] = "127.0.0.1",
            ["WEBINAR_PG_PORT"] = PgPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_PG_DATABASE"] = Database,
            ["WEBINAR_REGIONS"] = string.Join(' ', NodeRegions),
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["WEBINAR_TRUST_KEYS_DIR"] = trustDir,
            ["WEBINAR_ARCHIVE_DIR"] = ArchiveDirectory,
        };
        foreach (var (key, value) in ExtraEnvironment)
        {
            common[key] = value;
        }

        foreach (var (key, value) in Broker.Environment)
        {
            common[key] = value;
        }

        try
        {
            var controlPlane = new Dictionary<string, string>(common)
            {
                ["WEBINAR_HTTP_PORT"] = HttpPort.ToString(CultureInfo.InvariantCulture),
                ["WEBINAR_API_KEY"] = ApiKey,
                ["WEBINAR_JOIN_TOKEN_PRIVATE_KEY_FILE"] = privatePem,
                ["WEBINAR_IDLE_TIMEOUT_SECONDS"] = "300",
            };
            ConfigureControlPlane(controlPlane);
            ControlPlane = Track(ServiceProcess.Start("control-plane", "Webinar.ControlPlane", controlPlane));

            foreach (var region in NodeRegions)
            {
                var placement = PlaceNode(region);
                var ws = FreePort(SocketType.Stream, ProtocolType.Tcp);
                var udp = FreePort(SocketType.Dgram, ProtocolType.Udp);
                var tcp = FreePort(SocketType.Stream, ProtocolType.Tcp);
                var nodeId = NodeIdOf(region);
                var environment = new Dictionary<string, string>(common)
                {
                    ["WEBINAR_SFU_REGION"] = region,
                    ["WEBINAR_SFU_NODE_ID"] = nodeId,
                    ["WEBINAR_SFU_WS_PORT"] = ws.ToString(CultureInfo.InvariantCulture),
                    ["WEBINAR_SFU_UDP_PORT"] = udp.ToString(CultureInfo.InvariantCulture),
                    ["WEBINAR_SFU_TCP_PORT"] = tcp.ToString(CultureInfo.InvariantCulture),
                    ["WEBINAR_SFU_LISTEN_ADDRESS"] = placement.Address,
                    ["WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE"] = publicPem,
                };
                if (placement.NetworkNamespace is not null)
                {
                    // A node in a namespace of its own listens and announces its namespace's address only; in the
                    // root namespace it takes the default, as infra/up does: every address of the machine.
                    environment["WEBINAR_SFU_MEDIA_ADDRESSES"] = placement.Address;
                    environment["WEBINAR_SFU_ANNOUNCED_IP"] = placement.Address;
                }

                ConfigureNode(region, environment);
                var node = new SfuNode(region, nodeId, ws, udp, tcp, placement.Address, placement.NetworkNamespace, environment);
                StartProcess(node);
                _nodes.Add(node);
            }

            Api = new ControlPlaneApi(BaseAddress, ApiKey);
            await WaitReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch (Exception e)
        {
            var logs = Logs();
            await DisposeAsync();
            throw new InvalidOperationException("The system did not start.\n" + logs, e);
        }
    }

    private string NodeIdOf(string region) => $"{region}-e2e{_suffix[..6]}";

    /// <summary>Stops one region's node process: SIGTERM, or SIGKILL with <paramref name="crash"/>.</summary>
    public Task StopNodeAsync(string region, bool crash = false) => Node(region).Process.StopAsync(crash);

    /// <summary>Starts one region's node again with the same node id, ports and settings; waits for its WebSocket port.</summary>
    public async Task RestartNodeAsync(string region)
    {
        var node = Node(region);
        if (!node.Process.HasExited)
        {
            throw new InvalidOperationException($"{node.NodeId} is still running.");
        }

        StartProcess(node);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await PortOpenAsync(node.Address, node.WsPort))
        {
            if (node.Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{node.NodeId} did not come back on port {node.WsPort}.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Lines of one node's current process output that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> NodeLog(string region, string text) =>
        Node(region).Process.Log().Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal)).Select(l => l.TrimEnd()).ToList();

    /// <summary>The broker the services use; the shared one with a virtual host of this fixture's own unless overridden.</summary>
    protected virtual RabbitBroker CreateBroker() => new SharedRabbitBroker(VirtualHost);

    /// <summary>Sets up what the nodes need around them (e.g. network namespaces) before anything starts.</summary>
    protected virtual Task PrepareNetworkAsync() => Task.CompletedTask;

    /// <summary>Tears down what <see cref="PrepareNetworkAsync"/> set up; runs last, also after a failed start.</summary>
    protected virtual Task CleanUpNetworkAsync() => Task.CompletedTask;

    protected virtual NodePlacement PlaceNode(string region) => NodePlacement.Loopback;

    /// <summary>Last word on a node's environment before it starts.</summary>
    protected virtual void ConfigureNode(string region, IDictionary<string, string> environment)
    {
    }

    /// <summary>Last word on the control plane's environment before it starts.</summary>
    protected virtual void ConfigureControlPlane(IDictionary<string, string> environment)
    {
    }

    /// <summary>Every process's output, for the test log.</summary>
    public virtual string Logs() => string.Join(Environment.NewLine, _processes.Select(p => p.Log()));

    /// <summary>Runs a test body; on failure writes every process's output to the test output, then rethrows.</summary>
    /// <summary>
    /// Longest any one end-to-end test may take: a test that awaits something that never comes (a page promise, a
    /// frame) fails with the system's logs instead of holding the whole run until CI gives up.
    /// </summary>
    public static readonly TimeSpan TestLimit = TimeSpan.FromMinutes(4);

    public async Task RunAsync(ITestOutputHelper output, Func<Task> test)
    {
        try
        {
            await test().WaitAsync(TestLimit);
        }
        catch
        {
            output.WriteLine(Logs());
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _processes.Clear();
        try
        {
            if (Broker is not null)
            {
                await Broker.DisposeAsync();
            }
        }
        finally
        {
            await CleanUpNetworkAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        if (_keyDir.Length > 0)
        {
            Directory.Delete(_keyDir, recursive: true);
        }

        if (Directory.Exists(ArchiveDirectory))
        {
            Directory.Delete(ArchiveDirectory, recursive: true);
        }
    }

    private static string AdminConnectionString => $"Host=127.0.0.1;Port={PgPort};Username=postgres;Database=postgres;Pooling=false";

    private ServiceProcess Track(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private void StartProcess(SfuNode node) =>
        node.Process = Track(ServiceProcess.Start($"sfu-{node.Region} #{_processes.Count(p => p.Name.StartsWith("sfu-" + node.Region + " ", StringComparison.Ordinal)) + 1}",
            "Webinar.Sfu", node.Environment, node.NetworkNamespace));

    /// <summary>/readyz answers 200, every node's WebSocket port is open, and a meeting can be placed in every region.</summary>
    private async Task WaitReadyAsync(TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            ThrowIfExited();
            try
            {
                using var response = await http.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("/readyz did not answer 200.");
            }

            await Task.Delay(200);
        }

        foreach (var node in Nodes)
        {
            while (!await PortOpenAsync(node.Address, node.WsPort))
            {
                ThrowIfExited();
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Node {node.NodeId} did not open port {node.WsPort}.");
                }

                await Task.Delay(200);
            }
        }

        foreach (var region in NodeRegions)
        {
            var probe = await Api.CreateMeetingWhenPlacedAsync(region, deadline - DateTime.UtcNow);
            await Api.DeleteMeetingAsync(probe.MeetingId);
        }
    }

    private void ThrowIfExited()
    {
        var exited = _processes.FirstOrDefault(p => p.HasExited);
        if (exited is not null)
        {
            throw new InvalidOperationException($"{exited.Name} exited during start-up.");
        }
    }

    private static async Task<bool> PortOpenAsync(string address, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Parse(address), port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreeTcpPort() => FreePort(SocketType.Stream, ProtocolType.Tcp);

    // Ports are handed out below the kernel's ephemeral range (32768+), from a block chosen by the process id, so an
    // outgoing connection (Chromium, Npgsql, the broker's clients) can never take a port between the moment it is
    // chosen here and the moment the service binds it; every port is checked free on every address first.
    private const int FirstPort = 20000;
    private const int LastPort = 32000;
    private static int s_nextPort = FirstPort + (Environment.ProcessId % 60 * 200);

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        for (var attempt = 0; attempt < LastPort - FirstPort; attempt++)
        {
            var port = Interlocked.Increment(ref s_nextPort);
            if (port > LastPort)
            {
                Interlocked.CompareExchange(ref s_nextPort, FirstPort, port);
                continue;
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
                socket.Bind(new IPEndPoint(IPAddress.Any, port));
                return port;
            }
            catch (SocketException)
            {
                // In use: try the next one.
            }
        }

        throw new InvalidOperationException($"No free port between {FirstPort} and {LastPort}.");
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;
}
