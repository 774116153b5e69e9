using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using MassTransit;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Media;
using Webinar.TestSupport.Servers;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>
/// A real node process (<c>dotnet Webinar.Sfu.dll</c> from this test's output, the real media plane) on the shared
/// RabbitMQ container of its own (<see cref="TestServers"/>), with a test bus that places meetings on it the way the control plane does.
/// Its output is kept for the failure message. Disposing stops it and removes the container.
/// </summary>
internal sealed class SfuNodeProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _log = new();
    private readonly HttpClient _http = new();
    private IBusControl? _bus;
    private RabbitMqServer? _rabbit;
    private Process? _process;

    private SfuNodeProcess()
    {
    }

    public string NodeId { get; } = "us-east-1-p" + Guid.NewGuid().ToString("N")[..6];

    public int WsPort { get; } = FreePort(SocketType.Stream, ProtocolType.Tcp);

    public int UdpPort { get; } = FreePort(SocketType.Dgram, ProtocolType.Udp);

    public IPEndPoint MediaEndPoint => new(IPAddress.Loopback, UdpPort);

    public Uri SignalingUrl => new($"ws://127.0.0.1:{WsPort}/signal");

    public TestKeys Keys { get; } = new();

    public BusRecorder Recorder { get; } = new();

    public bool HasExited => _process?.HasExited ?? true;

    public int ProcessId => _process?.Id ?? 0;

    public static async Task<SfuNodeProcess> StartAsync()
    {
        var node = new SfuNodeProcess();
        try
        {
            await node.InitializeAsync();
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        var broker = _rabbit = await TestServers.StartRabbitMqAsync();
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker.Host, (ushort)broker.Port, "/", h =>
            {
                h.Username("guest");
                h.Password("guest");
            });
            rabbit.ReceiveEndpoint("test-recorder", e => e.Consumer(() => new RecordingConsumer<NodeHeartbeat>(Recorder)));
        });
        await _bus.StartAsync();

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Webinar.Sfu.dll"));
        start.Environment["WEBINAR_SFU_REGION"] = SfuNodeFixture.Region;
        start.Environment["WEBINAR_SFU_NODE_ID"] = NodeId;
        start.Environment["WEBINAR_SFU_WS_PORT"] = WsPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["WEBINAR_SFU_UDP_PORT"] = UdpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["WEBINAR_SFU_ANNOUNCED_IP"] = "127.0.0.1";
        start.Environment["WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE"] = Keys.PublicKeyFile;
        start.Environment["WEBINAR_RABBITMQ_HOST"] = broker.Host;
        start.Environment["WEBINAR_RABBITMQ_PORT"] = broker.PortText;
        start.Environment["WEBINAR_RABBITMQ_VHOST"] = "/";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["DOTNET_NOLOGO"] = "1";
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await Recorder.WaitForAsync<NodeHeartbeat>(h => h.NodeId == NodeId, TimeSpan.FromSeconds(60));

        // A heartbeat can go out before the node's consumers are bound (MassTransit starts its receive endpoints
        // alongside the hosted services): an event published earlier would be lost, so wait for the binding itself.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(await broker.CtlAsync("list_bindings", "source_name")).Contains("MeetingCreated", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Node {NodeId} never bound its queue to MeetingCreated.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Places a primary meeting on this node, as the control plane does.</summary>
    public async Task<Guid> CreateMeetingAsync()
    {
        var id = Guid.NewGuid();
        await _bus!.Publish(new MeetingCreated(id, null, SfuNodeFixture.Region, NodeId, 250, DateTimeOffset.UtcNow));
        return id;
    }

    /// <summary>The node's media counters (<c>GET /diagnostics/media</c>), a consistent set read on its media thread.</summary>
    public async Task<MediaCountersSnapshot> CountersAsync()
    {
        var snapshot = await _http.GetFromJsonAsync<MediaCountersSnapshot>($"http://127.0.0.1:{WsPort}{MediaDiagnostics.Path}");
        return snapshot ?? throw new InvalidOperationException("The node returned no counters.");
    }

    public string Log()
    {
        var text = new StringBuilder();
        text.AppendLine($"----- node {NodeId} (pid {ProcessId}{(_process is { HasExited: true } p ? $", exited {p.ExitCode}" : string.Empty)}) -----");
        foreach (var line in _log)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        _http.Dispose();
        Keys.Dispose();
        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }
    }

    private void Append(string? line)
    {
        if (line is not null && _log.Count < 2000)
        {
            _log.Enqueue(line);
        }
    }

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
