using DotNet.Testcontainers.Configurations;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Webinar.TestSupport.Servers;

/// <summary>
/// Where the integration tests get their PostgreSQL and RabbitMQ: one container of each per test collection
/// (Testcontainers), from the local images infra/images builds (WEBINAR_POSTGRES_IMAGE, WEBINAR_RABBITMQ_IMAGE), on the
/// Docker engine infra/lib.sh starts. Nothing is pulled. The one place a test fixture asks for a server.
/// </summary>
public static class TestServers
{
    public const string DefaultRabbitMqImage = "webinar-local/rabbitmq:local";
    public const string DefaultPostgresImage = "webinar-local/postgresql:local";

    static TestServers()
    {
        // The resource reaper (Ryuk) is an image from a registry: Leftovers does its work.
        TestcontainersSettings.ResourceReaperEnabled = false;
        Leftovers.Track();
    }

    public static string RabbitMqImage => Variable("WEBINAR_RABBITMQ_IMAGE", DefaultRabbitMqImage);

    public static string PostgresImage => Variable("WEBINAR_POSTGRES_IMAGE", DefaultPostgresImage);

    /// <summary>
    /// A started RabbitMQ container (user guest/guest, virtual host /). Its AMQP port on 127.0.0.1 stays the same across
    /// <see cref="RabbitMqServer.StopAsync"/> and <see cref="RabbitMqServer.StartAsync"/>, so clients reconnect to it.
    /// </summary>
    public static Task<RabbitMqServer> StartRabbitMqAsync() => RabbitMqs.TakeAsync();

    /// <summary>A started PostgreSQL container (user postgres); each fixture names its own database in it.</summary>
    public static Task<PostgresServer> StartPostgresAsync() => Postgreses.TakeAsync();

    private static readonly SpareServer<RabbitMqServer> RabbitMqs = new(async () =>
    {
        var hostPort = FreePorts.Tcp();
        var container = new RabbitMqBuilder()
            .WithImage(RabbitMqImage)
            .WithUsername(RabbitMqServer.User)
            .WithPassword(RabbitMqServer.Password)
            .WithPortBinding(hostPort, RabbitMqBuilder.RabbitMqPort)
            .WithLabel(Leftovers.Label, Leftovers.ProcessId)
            .Build();
        var server = new RabbitMqServer(container, hostPort);
        await server.StartAsync();
        return server;
    });

    private static readonly SpareServer<PostgresServer> Postgreses = new(async () =>
    {
        var container = new PostgreSqlBuilder()
            .WithImage(PostgresImage)
            .WithUsername(PostgresServer.User)
            .WithPassword(PostgresServer.Password)
            .WithDatabase("postgres")
            .WithLabel(Leftovers.Label, Leftovers.ProcessId)
            .WithCommand("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=400")
            .Build();
        await container.StartAsync();
        return new PostgresServer(container);
    });

    private static string Variable(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
