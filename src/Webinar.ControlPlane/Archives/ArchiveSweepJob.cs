using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Archives;

/// <summary>
/// Fails the archives of a node that never came back. A node that is killed mid-archive and restarts finishes what
/// its work directory holds (a partial archive); one that stays away would leave its archives <c>Started</c> or
/// <c>Stopped</c> for ever. An archive is given up once its node is gone (<see cref="NodeLiveness.CountsSql"/>: silent
/// while other nodes' heartbeats arrive, so a broker outage never fails an archive) and its last heartbeat is older
/// than <see cref="ArchiveOptions.NodeLostAfter"/> (time for a restart to recover it). Runs on Quartz's clustered
/// store like the idle reaper; each archive is re-checked under its row lock.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class ArchiveSweepJob(
    NpgsqlDataSource dataSource,
    NodeLiveness liveness,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<ArchiveOptions> options,
    ILogger<ArchiveSweepJob> logger) : IJob
{
    public static readonly JobKey Key = new("archive-sweep", "webinar");

    private static readonly string LostSql =
        $"""
        SELECT a.archive_id AS ArchiveId, a.node_id AS NodeId
        FROM archives a JOIN nodes n ON n.node_id = a.node_id
        WHERE a.status IN ('Started', 'Stopped') AND a.deleted_at IS NULL
          AND n.last_heartbeat_at < now() - @lostAfter
          AND NOT ({NodeLiveness.CountsSql("n")})
        ORDER BY a.created_at
        LIMIT 500
        """;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        var lostAfter = options.Value.NodeLostAfter;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var lost = (await connection.QueryAsync<(Guid ArchiveId, string NodeId)>(new CommandDefinition(
            LostSql, liveness.Parameters(new { lostAfter }), cancellationToken: ct))).AsList();
        foreach (var (archiveId, nodeId) in lost)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            var archive = await ArchiveStore.GetAsync(connection, tx, archiveId, forUpdate: true, ct);
            if (archive is null || archive.State is not (ArchiveStatus.Started or ArchiveStatus.Stopped))
            {
                await tx.RollbackAsync(ct);
                continue;
            }

            var reason = $"The node {nodeId} recording the archive stopped answering and did not come back within {lostAfter.TotalSeconds:0} s.";
            await ArchiveLifecycle.NodeLostAsync(connection, tx, archive, reason, time.GetUtcNow(), ct);
            await tx.CommitAsync(ct);
            logger.ArchiveNodeLost(archiveId, nodeId);
            outbox.Notify();
        }
    }
}
