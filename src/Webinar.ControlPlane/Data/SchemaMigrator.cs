using System.Reflection;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Data;

/// <summary>
/// Creates the database when it is missing and applies the embedded SQL migrations (Data/Migrations/*.sql) in
/// name order, each once, under an advisory lock so that instances starting together do not race. Runs as the
/// first hosted service, before the bus, the outbox publisher and Quartz start.
/// </summary>
internal sealed class SchemaMigrator(
    IOptions<DatabaseOptions> options,
    NpgsqlDataSource dataSource,
    ILogger<SchemaMigrator> logger) : IHostedService
{
    private const long AdvisoryLockKey = 0x57_65_62_69_6E_61_72; // "Webinar"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await EnsureDatabaseAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<string>(new CommandDefinition("SELECT id FROM schema_migrations", cancellationToken: cancellationToken))).ToHashSet();
            foreach (var (id, sql) in Migrations())
            {
                if (applied.Contains(id))
                {
                    continue;
                }

                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition("INSERT INTO schema_migrations (id) VALUES (@id)", new { id }, tx, cancellationToken: cancellationToken));
                await tx.CommitAsync(cancellationToken);
                logger.MigrationApplied(id);
            }
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureDatabaseAsync(CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(ConnectionStrings.For(options.Value));
        var database = target.Database ?? "postgres";
        var admin = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @database)", new { database }, cancellationToken: cancellationToken));
        if (exists)
        {
            return;
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken: cancellationToken));
            logger.DatabaseCreated(database);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another instance created it at the same moment.
        }
    }

    private static IEnumerable<(string Id, string Sql)> Migrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        const string prefix = "Webinar.ControlPlane.Data.Migrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[prefix.Length..], reader.ReadToEnd());
        }
    }
}
