using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Sockets;
using MassTransit;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Sessions;
using Webinar.TestSupport.Servers;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>
/// One SFU node in process (Kestrel on a free loopback port, the fake media plane) on a RabbitMQ container of its own
/// (<see cref="TestServers"/>), plus a test bus that publishes the control plane's events and records the node's.
/// </summary>
public class SfuNodeFixture : IAsyncLifetime
{
    public const string Region = "us-east-1";

    private WebApplication? _app;
    private IBusControl? _bus;
    private RabbitMqServer? _rabbit;

    public string NodeId { get; } = "us-east-1-t" + Guid.NewGuid().ToString("N")[..6];

    public int Port { get; } = FreeTcpPort();

    public Uri SignalingUrl => new($"ws://127.0.0.1:{Port}/signal");

    internal TestKeys Keys { get; } = new();

    internal FakeMediaPlane Media { get; } = new();

    internal BusRecorder Recorder { get; } = new();

    /// <summary>Extra node configuration a derived fixture sets (e.g. a small capacity).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        var broker = _rabbit = await TestServers.StartRabbitMqAsync();
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker.Host, (ushort)broker.Port, "/", h =>
            {
                h.Username("guest");
                h.Password("guest");
            });
            rabbit.ReceiveEndpoint("test-recorder", e =>
            {
                e.Consumer(() => new RecordingConsumer<NodeHeartbeat>(Recorder));
                e.Consumer(() => new RecordingConsumer<AttendeeJoined>(Recorder));
                e.Consumer(() => new RecordingConsumer<AttendeeLeft>(Recorder));
            });
        });
        await _bus.StartAsync();

        _app = SfuApplication.Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Sfu:Region"] = Region,
                ["Sfu:NodeId"] = NodeId,
                ["Sfu:WsPort"] = Port.ToString(CultureInfo.InvariantCulture),
                ["Sfu:JoinTokenPublicKeyFile"] = Keys.PublicKeyFile,
                ["Sfu:JoinTimeout"] = "00:00:03",
                ["Sfu:PlacementQueryTimeout"] = "00:00:00.500", // no control plane here: the query always times out
                ["RabbitMq:Host"] = broker.Host,
                ["RabbitMq:Port"] = broker.PortText,
                ["RabbitMq:VirtualHost"] = "/",
                ["RabbitMq:WaitUntilStarted"] = "true",
                ["Logging:LogLevel:Default"] = "Warning",
            });
            builder.Configuration.AddInMemoryCollection(Settings);
            builder.Services.AddSingleton<IMediaPlane>(Media);
        });
        await _app.StartAsync();

        // The node's queue is bound once its first heartbeat is out.
        await Recorder.WaitForAsync<NodeHeartbeat>(h => h.NodeId == NodeId);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        Keys.Dispose();
        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }
    }

    public Task PublishAsync<T>(T message)
        where T : class => _bus!.Publish(message);

    /// <summary>Places a primary meeting (on this node unless another node id is given).</summary>
    public async Task<Guid> CreateMeetingAsync(string? nodeId = null, int maxAttendees = 250)
    {
        var id = Guid.NewGuid();
        await PublishAsync(new MeetingCreated(id, null, Region, nodeId ?? NodeId, maxAttendees, DateTimeOffset.UtcNow));
        return id;
    }

    public async Task<Guid> CreateReplicaAsync(Guid primaryMeetingId, string? nodeId = null)
    {
        var id = Guid.NewGuid();
        await PublishAsync(new ReplicaCreated(id, primaryMeetingId, null, Region, nodeId ?? NodeId, Region, NodeId, 250, DateTimeOffset.UtcNow));
        return id;
    }

    /// <summary>Connects and joins; returns the client and its <c>joined</c> frame.</summary>
    internal async Task<(SignalingClient Client, System.Text.Json.JsonElement Joined)> JoinAsync(Guid meetingId, Guid attendeeId, string userId, Guid? primaryMeetingId = null)
    {
        var client = await SignalingClient.ConnectAsync(SignalingUrl);
        await client.SendAsync(new { type = "join", token = Keys.Token(meetingId, attendeeId, userId, primaryMeetingId) });
        var joined = await client.ExpectAsync("joined");
        return (client, joined);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
