using Testcontainers.PostgreSql;

namespace Webinar.TestSupport.Servers;

/// <summary>A PostgreSQL container of one test collection (see <see cref="TestServers"/>).</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "postgres";
    public const string Password = "postgres";

    private readonly PostgreSqlContainer _container;

    internal PostgresServer(PostgreSqlContainer container) => _container = container;

    public int Port => _container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort);

    /// <summary>The <c>postgres</c> database, without pooling (for CREATE and DROP DATABASE).</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username={User};Password={Password};Database=postgres;Pooling=false";

    public string ConnectionString(string database, int maxPoolSize = 40) =>
        $"Host=127.0.0.1;Port={Port};Username={User};Password={Password};Database={database};Maximum Pool Size={maxPoolSize};Timeout=30";

    public ValueTask DisposeAsync() => _container.DisposeAsync();
}
