using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Npgsql;
using Webinar.ControlPlane.Hosting;

namespace Webinar.Benchmarks.ControlPlane;

/// <summary>
/// CreateAttendee throughput and BatchCreateAttendee(100) latency through the real HTTP API (Kestrel on a loopback
/// port) against the real PostgreSQL and RabbitMQ (WEBINAR_PG_PORT / WEBINAR_RABBITMQ_PORT, started by
/// <c>infra/lib.sh prepare</c>). Each run uses a database of its own, dropped afterwards. The node a meeting is
/// placed on is registered straight in the nodes table, as a heartbeat would.
/// Run: <c>dotnet run -c Release --project tests/Webinar.Benchmarks -- --filter '*AttendeeBenchmarks*'</c>.
/// </summary>
[InProcess]
[MemoryDiagnoser]
public class AttendeeBenchmarks
{
    private const int AttendeesPerInvoke = 200;
    private const int Concurrency = 16;
    private const string ApiKey = "bench-key";

    private readonly string _database = "webinar_bench_" + Guid.NewGuid().ToString("N");
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private Guid _meeting;

    private static int PgPort => int.TryParse(Environment.GetEnvironmentVariable("WEBINAR_PG_PORT"), out var p) ? p : 55432;

    [GlobalSetup]
    public void Setup()
    {
        var port = FreePort();
        _app = ControlPlaneApp.Build([], builder =>
        {
            builder.Configuration["ConnectionStrings:Webinar"] = $"Host=127.0.0.1;Port={PgPort};Username=postgres;Database={_database};Maximum Pool Size=40";
            builder.Configuration["Http:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            builder.Configuration["ApiKeys:DevelopmentKey"] = ApiKey;
            builder.Configuration["Logging:LogLevel:Default"] = "Warning";
        });
        _app.StartAsync().GetAwaiter().GetResult();
        using (var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={PgPort};Username=postgres;Database={_database}"))
        {
            connection.Open();
            using var command = new NpgsqlCommand(
                "INSERT INTO nodes VALUES ('bench-node', 'us-east-1', 'ws://127.0.0.1:9/bench', 0, now() + interval '1 day') ON CONFLICT DO NOTHING", connection);
            command.ExecuteNonQuery();
        }

        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    [IterationSetup]
    public void NewMeeting() => _meeting = CreateMeetingAsync().GetAwaiter().GetResult();

    /// <summary>200 CreateAttendee calls, 16 in flight at a time, on one meeting; the reported time is per attendee.</summary>
    [Benchmark(OperationsPerInvoke = AttendeesPerInvoke)]
    public async Task CreateAttendee()
    {
        var next = -1;
        var workers = new Task[Concurrency];
        for (var w = 0; w < Concurrency; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < AttendeesPerInvoke)
                {
                    using var response = await _client.PostAsJsonAsync($"/meetings/{_meeting}/attendees", new { ExternalUserId = $"user-{i}" });
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        throw new InvalidOperationException($"CreateAttendee answered {response.StatusCode}");
                    }
                }
            });
        }

        await Task.WhenAll(workers);
    }

    /// <summary>One BatchCreateAttendee of 100 attendees.</summary>
    [Benchmark]
    public async Task BatchCreateAttendee100()
    {
        var attendees = new object[100];
        for (var i = 0; i < attendees.Length; i++)
        {
            attendees[i] = new { ExternalUserId = $"batch-{i}" };
        }

        using var response = await _client.PostAsJsonAsync($"/meetings/{_meeting}/attendees?operation=batch-create", new { Attendees = attendees });
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"BatchCreateAttendee answered {response.StatusCode}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        NpgsqlConnection.ClearAllPools();
        using var admin = new NpgsqlConnection($"Host=127.0.0.1;Port={PgPort};Username=postgres;Database=postgres;Pooling=false");
        admin.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
        drop.ExecuteNonQuery();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<Guid> CreateMeetingAsync()
    {
        using var response = await _client.PostAsJsonAsync("/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "us-east-1" });
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid();
    }
}
