using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Hosting;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Sessions;
using Webinar.TestSupport.Servers;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>
/// The real control plane in process (test server, its own PostgreSQL database) and SFU nodes started and stopped by
/// the test, all on a RabbitMQ container of their own (and a PostgreSQL one: <see cref="TestServers"/>), plus a test bus that publishes heartbeats for
/// nodes that do not run yet and records MeetingCreated. Join tokens are signed by a key the fixture writes.
/// </summary>
public sealed class ControlPlaneNodeFixture : IAsyncLifetime
{
    private const string ApiKey = "sfu-test-api-key";

    private readonly string _database = "webinar_t_" + Guid.NewGuid().ToString("N");
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _privateKeyFile = Path.Combine(Path.GetTempPath(), $"webinar-sfu-cp-{Guid.NewGuid():N}.key.pem");
    private readonly string _publicKeyFile = Path.Combine(Path.GetTempPath(), $"webinar-sfu-cp-{Guid.NewGuid():N}.pub.pem");
    private WebApplication? _controlPlane;
    private IBusControl? _bus;
    private RabbitMqServer? _rabbit;
    private PostgresServer? _postgres;

    internal BusRecorder Recorder { get; } = new();

    internal HttpClient Api { get; private set; } = null!;

    private RabbitMqServer Rabbit => _rabbit ?? throw new InvalidOperationException("The fixture has not started.");

    private string ConnectionString => (_postgres ?? throw new InvalidOperationException("The fixture has not started.")).ConnectionString(_database);

    public async Task InitializeAsync()
    {
        File.WriteAllText(_privateKeyFile, _key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_publicKeyFile, _key.ExportSubjectPublicKeyInfoPem());
        var postgres = TestServers.StartPostgresAsync();
        var broker = TestServers.StartRabbitMqAsync();
        await Task.WhenAll(postgres, broker);
        (_postgres, _rabbit) = (await postgres, await broker);

        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(Rabbit.Host, (ushort)Rabbit.Port, "/", h =>
            {
                h.Username("guest");
                h.Password("guest");
            });
            rabbit.ReceiveEndpoint("test-recorder", e =>
            {
                e.Consumer(() => new RecordingConsumer<MeetingCreated>(Recorder));
                e.Consumer(() => new RecordingConsumer<NodeHeartbeat>(Recorder));
            });
        });
        await _bus.StartAsync();

        _controlPlane = ControlPlaneApp.Build([], builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Webinar"] = ConnectionString,
                ["RabbitMq:Host"] = Rabbit.Host,
                ["RabbitMq:Port"] = Rabbit.PortText,
                ["RabbitMq:VirtualHost"] = "/",
                ["ApiKeys:DevelopmentKey"] = ApiKey,
                ["Meetings:Regions"] = "us-east-1 eu-west-1 ap-southeast-1 sa-east-1 ca-central-1 eu-central-1",
                ["JoinTokens:PrivateKeyFile"] = _privateKeyFile,
                ["Outbox:PollInterval"] = "00:00:00.200",
                ["Logging:LogLevel:Default"] = "Warning",
            });
        });
        await _controlPlane.StartAsync();
        Api = _controlPlane.GetTestClient();
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public async Task DisposeAsync()
    {
        if (_controlPlane is not null)
        {
            await _controlPlane.StopAsync();
            await _controlPlane.DisposeAsync();
        }

        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        NpgsqlConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }

        File.Delete(_privateKeyFile);
        File.Delete(_publicKeyFile);
        _key.Dispose();
    }

    /// <summary>Makes the control plane see a healthy node that is not running (yet): one heartbeat, then waits for its row.</summary>
    public async Task AnnounceNodeAsync(string nodeId, string region)
    {
        await _bus!.Publish(new NodeHeartbeat(nodeId, region, $"ws://127.0.0.1:9/{nodeId}", 0, [], DateTimeOffset.UtcNow));
        await WaitForNodeRowAsync(nodeId);
    }

    public async Task WaitForNodeRowAsync(string nodeId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        await using var connection = new NpgsqlConnection(ConnectionString);
        while (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM nodes WHERE node_id = @nodeId", new { nodeId }) == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Node {nodeId} never registered.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// CreateMeeting through the API; a replica when <paramref name="primary"/> is given; at most
    /// <paramref name="maxCount"/> connections (MeetingFeatures.Attendee.MaxCount) when given.
    /// </summary>
    public async Task<Guid> CreateMeetingAsync(string region, Guid? primary = null, int? maxCount = null)
    {
        var body = new Dictionary<string, object?> { ["ClientRequestToken"] = Guid.NewGuid().ToString("N"), ["MediaRegion"] = region };
        if (primary is not null)
        {
            body["PrimaryMeetingId"] = primary;
        }

        if (maxCount is { } max)
        {
            body["MeetingFeatures"] = new { Attendee = new { MaxCount = max } };
        }

        using var response = await Api.PostAsJsonAsync("/meetings", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"CreateMeeting answered {response.StatusCode}: {json}");
        return json.GetProperty("Meeting").GetProperty("MeetingId").GetGuid();
    }

    /// <summary>Waits until the control plane sees <paramref name="nodeId"/> healthy (a heartbeat within the last 2 s).</summary>
    public async Task WaitForHealthyNodeAsync(string nodeId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        await using var connection = new NpgsqlConnection(ConnectionString);
        while (!await connection.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM nodes WHERE node_id = @nodeId AND last_heartbeat_at > now() - interval '3 seconds')", new { nodeId }))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Node {nodeId} never became healthy.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>CreateAttendee through the API; returns its id and join token.</summary>
    public async Task<(Guid AttendeeId, string JoinToken)> CreateAttendeeAsync(Guid meetingId, string user)
    {
        using var response = await Api.PostAsJsonAsync($"/meetings/{meetingId}/attendees", new { ExternalUserId = user });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"CreateAttendee answered {response.StatusCode}: {json}");
        var attendee = json.GetProperty("Attendee");
        return (attendee.GetProperty("AttendeeId").GetGuid(), attendee.GetProperty("JoinToken").GetString()!);
    }

    public async Task DeleteAttendeeAsync(Guid meetingId, Guid attendeeId)
    {
        using var response = await Api.DeleteAsync($"/meetings/{meetingId}/attendees/{attendeeId}");
        Assert.True(response.IsSuccessStatusCode, $"DeleteAttendee answered {response.StatusCode}");
    }

    /// <summary>A token signed by the control plane's key for any meeting (e.g. one that does not exist).</summary>
    public string Token(Guid meetingId, Guid attendeeId, string user)
    {
        var now = DateTimeOffset.UtcNow;
        return new JoinTokenSigner(_key).Sign(new JoinTokenClaims(meetingId, attendeeId, user, null, AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1)));
    }

    /// <summary>
    /// Starts an SFU node host in process on a free port; the bus is connected when it returns. With the fake media
    /// plane by default; <paramref name="realMedia"/> runs the real one and the relay (its own UDP media socket), as
    /// <c>infra/up</c> runs a node.
    /// </summary>
    internal async Task<RunningNode> StartNodeAsync(string nodeId, string region, bool realMedia = false)
    {
        var port = FreeTcpPort();
        var media = new FakeMediaPlane();
        var app = SfuApplication.Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Sfu:Region"] = region,
                ["Sfu:NodeId"] = nodeId,
                ["Sfu:WsPort"] = port.ToString(CultureInfo.InvariantCulture),
                ["Sfu:JoinTokenPublicKeyFile"] = _publicKeyFile,
                ["RabbitMq:Host"] = Rabbit.Host,
                ["RabbitMq:Port"] = Rabbit.PortText,
                ["RabbitMq:VirtualHost"] = "/",
                ["RabbitMq:WaitUntilStarted"] = "true",
                ["Sfu:UdpPort"] = realMedia ? FreeUdpPort().ToString(CultureInfo.InvariantCulture) : "0",
                ["Logging:LogLevel:Default"] = "Warning",
            });
            if (!realMedia)
            {
                builder.Services.AddSingleton<IMediaPlane>(media);
            }
        });
        await app.StartAsync();
        return new RunningNode(app, new Uri($"ws://127.0.0.1:{port}/signal"), media);
    }

    /// <summary>Publishes a control-plane event on the fixture's virtual host as the control plane would.</summary>
    public Task PublishAsync<T>(T message)
        where T : class => _bus!.Publish(message);

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One SFU node started by a test; disposing it stops the process's host as a restart would.</summary>
internal sealed class RunningNode(WebApplication app, Uri signalingUrl, FakeMediaPlane media) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public Uri SignalingUrl { get; } = signalingUrl;

    public FakeMediaPlane Media { get; } = media;

    public T Service<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
