using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Webinar.Contracts.JoinTokens;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>A started SFU node process.</summary>
public sealed record SfuNode(string Region, string NodeId, int WsPort, int UdpPort, ServiceProcess Process)
{
    public Uri SignalingUrl => new($"ws://127.0.0.1:{WsPort}/signal");
}

/// <summary>
/// The whole system as separate processes, the way infra/up starts it: the control plane and one SFU node per region,
/// from their built DLLs (src/*/bin/$WEBINAR_CONFIGURATION/net10.0), on the shared PostgreSQL and RabbitMQ with a
/// database and a virtual host of this fixture's own, and a freshly generated join-token key pair.
/// </summary>
public sealed class WebinarSystemFixture : IAsyncLifetime
{
    public static readonly string[] Regions = ["us-east-1", "eu-west-1", "ap-southeast-1"];

    private readonly string _suffix = Guid.NewGuid().ToString("N");
    private readonly List<ServiceProcess> _processes = [];
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private string _keyDir = string.Empty;

    public string Database => "webinar_e2e_" + _suffix;

    public string VirtualHost => "webinar_e2e_" + _suffix;

    public string ApiKey { get; } = "e2e-" + Guid.NewGuid().ToString("N");

    public int HttpPort { get; } = FreePort(SocketType.Stream, ProtocolType.Tcp);

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    public ServiceProcess ControlPlane { get; private set; } = null!;

    public IReadOnlyList<SfuNode> Nodes { get; private set; } = [];

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

        await RepositoryRoot.RabbitCtlAsync("add_vhost", VirtualHost);
        await RepositoryRoot.RabbitCtlAsync("set_permissions", "-p", VirtualHost, "guest", ".*", ".*", ".*");

        _keyDir = Directory.CreateTempSubdirectory("webinar-e2e-keys-").FullName;
        var privatePem = Path.Combine(_keyDir, "join-token.key.pem");
        var publicPem = Path.Combine(_keyDir, "join-token.pub.pem");
        await File.WriteAllTextAsync(privatePem, _key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(publicPem, _key.ExportSubjectPublicKeyInfoPem());
        Signer = new JoinTokenSigner(_key);

        var common = new Dictionary<string, string>
        {
            ["WEBINAR_PG_HOST"] = "127.0.0.1",
            ["WEBINAR_PG_PORT"] = PgPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_PG_DATABASE"] = Database,
            ["WEBINAR_RABBITMQ_HOST"] = "127.0.0.1",
            ["WEBINAR_RABBITMQ_PORT"] = RabbitPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_RABBITMQ_VHOST"] = VirtualHost,
            ["WEBINAR_REGIONS"] = string.Join(' ', Regions),
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };

        try
        {
            ControlPlane = Track(ServiceProcess.Start("control-plane", "Webinar.ControlPlane", new Dictionary<string, string>(common)
            {
                ["WEBINAR_HTTP_PORT"] = HttpPort.ToString(CultureInfo.InvariantCulture),
                ["WEBINAR_API_KEY"] = ApiKey,
                ["WEBINAR_JOIN_TOKEN_PRIVATE_KEY_FILE"] = privatePem,
                ["WEBINAR_IDLE_TIMEOUT_SECONDS"] = "300",
            }));

            var nodes = new List<SfuNode>();
            foreach (var region in Regions)
            {
                var ws = FreePort(SocketType.Stream, ProtocolType.Tcp);
                var udp = FreePort(SocketType.Dgram, ProtocolType.Udp);
                var nodeId = $"{region}-e2e{_suffix[..6]}";
                var process = Track(ServiceProcess.Start("sfu-" + region, "Webinar.Sfu", new Dictionary<string, string>(common)
                {
                    ["WEBINAR_SFU_REGION"] = region,
                    ["WEBINAR_SFU_NODE_ID"] = nodeId,
                    ["WEBINAR_SFU_WS_PORT"] = ws.ToString(CultureInfo.InvariantCulture),
                    ["WEBINAR_SFU_UDP_PORT"] = udp.ToString(CultureInfo.InvariantCulture),
                    ["WEBINAR_SFU_ANNOUNCED_IP"] = "127.0.0.1",
                    ["WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE"] = publicPem,
                }));
                nodes.Add(new SfuNode(region, nodeId, ws, udp, process));
            }

            Nodes = nodes;
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

    /// <summary>Every process's output, for the test log.</summary>
    public string Logs() => string.Join(Environment.NewLine, _processes.Select(p => p.Log()));

    /// <summary>Runs a test body; on failure writes every process's output to the test output, then rethrows.</summary>
    public async Task RunAsync(ITestOutputHelper output, Func<Task> test)
    {
        try
        {
            await test();
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
            await RepositoryRoot.RabbitCtlAsync("delete_vhost", VirtualHost);
        }
        catch (InvalidOperationException)
        {
            // Never created.
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
    }

    private static string AdminConnectionString => $"Host=127.0.0.1;Port={PgPort};Username=postgres;Database=postgres;Pooling=false";

    private ServiceProcess Track(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

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
            while (!await PortOpenAsync(node.WsPort))
            {
                ThrowIfExited();
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Node {node.NodeId} did not open port {node.WsPort}.");
                }

                await Task.Delay(200);
            }
        }

        foreach (var region in Regions)
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

    private static async Task<bool> PortOpenAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;
}
