using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Connections;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Idle;

/// <summary>
/// Deletes idle primaries. A primary's <c>idle_since</c> is when it and all its replicas last became free of live
/// connections (creation, the last AttendeeLeft, or — noticed here — a node known gone or a heartbeat reporting
/// none); once that is <see cref="IdleOptions.TimeoutSeconds"/> ago, the primary is deleted with its replicas
/// (MeetingDeleted, reason Idle). Only counts it can trust decide (<see cref="NodeLiveness"/>): a silent node's
/// connections keep counting until it is known gone, so a broker outage never ends a webinar. Every time compared is
/// the database's clock. A replica is never deleted alone for idleness: its connections count
/// for its primary. Runs on Quartz's clustered PostgreSQL job store as one non-concurrent job, and each deletion
/// re-checks under the row lock, so several control-plane instances delete each meeting exactly once.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class IdleReaperJob(
    NpgsqlDataSource dataSource,
    NodeLiveness liveness,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<IdleOptions> options,
    ILogger<IdleReaperJob> logger) : IJob
{
    public static readonly JobKey Key = new("idle-reaper", "webinar");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        var timeout = options.Value.Timeout;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE meetings p SET idle_since = now()
            WHERE p.primary_meeting_id IS NULL AND p.idle_since IS NULL
              AND NOT EXISTS ({LiveConnections.GroupLiveSql("p.meeting_id")})
            """,
            liveness.Parameters(),
            cancellationToken: ct));
        var candidates = (await connection.QueryAsync<Guid>(new CommandDefinition(
            "SELECT meeting_id FROM meetings WHERE primary_meeting_id IS NULL AND idle_since <= now() - @timeout ORDER BY idle_since LIMIT 500",
            new { timeout },
            cancellationToken: ct))).AsList();
        foreach (var meetingId in candidates)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            var stillIdle = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                "SELECT meeting_id FROM meetings WHERE meeting_id = @meetingId AND idle_since <= now() - @timeout FOR UPDATE",
                new { meetingId, timeout },
                tx,
                cancellationToken: ct));
            if (stillIdle is null || await LiveConnections.GroupHasLiveConnectionAsync(connection, tx, meetingId, liveness, ct))
            {
                await tx.RollbackAsync(ct);
                continue;
            }

            var deleted = await MeetingDeleter.DeleteAsync(connection, tx, meetingId, MeetingDeletionReason.Idle, time.GetUtcNow(), ct);
            await tx.CommitAsync(ct);
            if (deleted is not null)
            {
                logger.IdleMeetingDeleted(meetingId);
                outbox.Notify();
            }
        }
    }
}
