using System.Net.Http.Headers;
using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Hosting;
using Webinar.TestSupport.Servers;

namespace Webinar.ControlPlane.Tests.Infrastructure;

/// <summary>
/// One control plane (or several on one database) hosted in process on a PostgreSQL and a RabbitMQ container of its
/// own (<see cref="TestServers"/>), an <see cref="EventObserver"/> on that broker, and one fake SFU
/// node per region (us-east-1, eu-west-1, ap-southeast-1) sending heartbeats every second. sa-east-1 is a
/// configured region with no node.
/// </summary>
public class ControlPlaneFixture : IAsyncLifetime
{
    public const string ApiKey = "test-api-key";

    /// <summary>A second platform, <see cref="OtherPlatformId"/>, with its own key and webhook secret.</summary>
    public const string OtherApiKey = "test-api-key-other-platform";
    public const string OtherPlatformId = "other-platform";
    public const string OtherWebhookSecret = "other-platform-webhook-secret";
    public static readonly string[] NodeRegions = ["us-east-1", "eu-west-1", "ap-southeast-1"];

    private readonly List<WebApplication> _apps = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _heartbeats;

    public string Database { get; } = "webinar_t_" + Guid.NewGuid().ToString("N");

    /// <summary>The broker's virtual host: the whole broker is this fixture's own.</summary>
    public string VirtualHost => "/";

    protected virtual int IdleTimeoutSeconds => 300;

    protected virtual int Instances => 1;

    /// <summary>This fixture's RabbitMQ container (a test may stop and start it).</summary>
    public RabbitMqServer Rabbit { get; private set; } = null!;

    /// <summary>This fixture's PostgreSQL container.</summary>
    public PostgresServer Postgres { get; private set; } = null!;

    public int RabbitPort => Rabbit.Port;

    /// <summary>Configuration a fixture adds to (or overrides in) the common test settings.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    internal EventObserver Events { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public IReadOnlyList<HttpClient> Clients { get; private set; } = [];

    /// <summary>A client of the first instance acting for the other platform.</summary>
    public HttpClient OtherPlatformClient { get; private set; } = null!;

    public static string NodeId(string region) => "node-" + region;

    public static string SignalingUrl(string nodeId) => $"ws://127.0.0.1:9/{nodeId}";

    public virtual async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var rabbit = TestServers.StartRabbitMqAsync();
        await Task.WhenAll(postgres, rabbit);
        (Postgres, Rabbit) = (await postgres, await rabbit);
        Events = await EventObserver.StartAsync(RabbitPort, VirtualHost);
        var clients = new List<HttpClient>();
        for (var i = 0; i < Instances; i++)
        {
            var index = i;
            var app = ControlPlaneApp.Build([], builder =>
            {
                builder.WebHost.UseTestServer();
                builder.Configuration.AddInMemoryCollection(Settings());
                builder.Configuration.AddInMemoryCollection(ExtraSettings);
                ConfigureInstance(index, builder);
            });
            _apps.Add(app);
            await app.StartAsync();
            var client = app.GetTestClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            clients.Add(client);
        }

        Clients = clients;
        Client = clients[0];
        OtherPlatformClient = _apps[0].GetTestClient();
        OtherPlatformClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherApiKey);
        _heartbeats = Task.Run(() => SendHeartbeatsAsync(_stop.Token));
        await WaitUntilAsync(async () => await CountNodesAsync() >= NodeRegions.Length, TimeSpan.FromSeconds(30), "fake nodes registered");
    }

    public virtual async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_heartbeats is not null)
        {
            await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var app in _apps)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await app.StopAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await app.DisposeAsync();
        }

        await Events.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await Postgres.DisposeAsync();
        await Rabbit.DisposeAsync();
    }

    /// <summary>A client of the first instance that sends no API key.</summary>
    public HttpClient CreateAnonymousClient() => _apps[0].GetTestClient();

    /// <summary>Publishes one heartbeat as an SFU node would.</summary>
    public Task HeartbeatAsync(string nodeId, string region, int load, IReadOnlyList<MeetingConnections>? meetings = null) =>
        Events.Bus.Publish(new NodeHeartbeat(nodeId, region, SignalingUrl(nodeId), load, meetings ?? [], DateTimeOffset.UtcNow), c => SignAsNode(c, nodeId));

    /// <summary>The services of the first instance.</summary>
    internal IServiceProvider Services => _apps[0].Services;

    /// <summary>Signs what the fake nodes publish when the control plane verifies bus messages (nothing by default).</summary>
    protected virtual void SignAsNode<T>(PublishContext<T> context, string nodeId)
        where T : class
    {
    }

    public async Task<T> QueryScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = new NpgsqlConnection(Postgres.ConnectionString(Database));
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Timed out waiting for: " + what);
    }

    /// <summary>Services one instance registers before the control plane's own (e.g. a skewed TimeProvider).</summary>
    protected virtual void ConfigureInstance(int index, WebApplicationBuilder builder)
    {
    }

    /// <summary>Runs SQL on the fixture's database.</summary>
    public async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = new NpgsqlConnection(Postgres.ConnectionString(Database));
        return await connection.ExecuteAsync(sql, args);
    }

    /// <summary>Publishes one heartbeat that also lists the node's live connections.</summary>
    public Task HeartbeatListingAsync(string nodeId, string region, IReadOnlyList<MeetingConnections> meetings, IReadOnlyList<Guid> connectionIds) =>
        Events.Bus.Publish(new NodeHeartbeat(nodeId, region, SignalingUrl(nodeId), meetings.Sum(m => m.Connections), meetings, DateTimeOffset.UtcNow, connectionIds));

    private Dictionary<string, string?> Settings() => new()
    {
        ["ConnectionStrings:Webinar"] = Postgres.ConnectionString(Database),
        ["RabbitMq:Host"] = Rabbit.Host,
        ["RabbitMq:Port"] = Rabbit.PortText,
        ["RabbitMq:VirtualHost"] = VirtualHost,
        ["ApiKeys:DevelopmentKey"] = ApiKey,
        ["Platforms:0:Id"] = OtherPlatformId,
        ["Platforms:0:ApiKeys:0"] = OtherApiKey,
        ["Platforms:0:WebhookSecret"] = OtherWebhookSecret,
        ["Meetings:Regions"] = "us-east-1 eu-west-1 ap-southeast-1 sa-east-1 ca-central-1",
        ["Idle:TimeoutSeconds"] = IdleTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Idle:SweepIntervalSeconds"] = "1",
        ["Outbox:PollInterval"] = "00:00:00.500",
        ["Retention:Interval"] = "00:00:01",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private async Task<int> CountNodesAsync()
    {
        try
        {
            return await QueryScalarAsync<int>("SELECT count(*) FROM nodes WHERE node_id LIKE 'node-%'");
        }
        catch (PostgresException)
        {
            return 0;
        }
    }

    private async Task SendHeartbeatsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            foreach (var region in NodeRegions)
            {
                try
                {
                    await HeartbeatAsync(NodeId(region), region, load: 0).WaitAsync(TimeSpan.FromSeconds(2), ct);
                }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    // The broker may be down on purpose; the next beat retries.
                }
            }

            await Task.Delay(1000, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
