using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Data;

/// <summary>
/// Deletes what has served its purpose: outbox rows sent or set aside longer than
/// <see cref="RetentionOptions.Outbox"/> ago, webhook deliveries delivered or given up on longer than
/// <see cref="RetentionOptions.WebhookDeliveries"/> ago, and connection tombstones older than
/// <see cref="RetentionOptions.EndedConnections"/>. Unsent rows and pending deliveries are never touched. Runs on
/// Quartz's clustered store like the idle reaper, in batches so no single statement holds locks for long.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class RetentionJob(NpgsqlDataSource dataSource, IOptions<RetentionOptions> options, ILogger<RetentionJob> logger) : IJob
{
    public static readonly JobKey Key = new("retention", "webinar");

    private const int Batch = 5000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var o = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var outbox = await PruneAsync(connection,
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < now() - @age LIMIT @batch)",
            o.Outbox, cancellationToken);
        var webhooks = await PruneAsync(connection,
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < now() - @age LIMIT @batch)",
            o.WebhookDeliveries, cancellationToken);
        var ended = await PruneAsync(connection,
            "DELETE FROM ended_connections WHERE connection_id IN (SELECT connection_id FROM ended_connections WHERE ended_at < now() - @age LIMIT @batch)",
            o.EndedConnections, cancellationToken);
        if (outbox + webhooks + ended > 0)
        {
            logger.RetentionPruned(outbox, webhooks, ended);
        }
    }

    private static async Task<int> PruneAsync(NpgsqlConnection connection, string sql, TimeSpan age, CancellationToken ct)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await connection.ExecuteAsync(new CommandDefinition(sql, new { age, batch = Batch }, cancellationToken: ct));
            total += deleted;
        }
        while (deleted == Batch);
        return total;
    }
}
