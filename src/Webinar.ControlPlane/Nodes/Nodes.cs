using System.Data.Common;
using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Nodes;

/// <summary>An SFU node chosen for a new meeting.</summary>
internal sealed record NodePlacement(string NodeId, string SignalingUrl);

/// <summary>
/// Chooses the least-loaded healthy node of a region: lowest reported load plus the meetings placed on it since
/// its last heartbeat (so a burst of creates between two heartbeats spreads out), ties by node id.
/// </summary>
internal sealed class Placement(TimeProvider time, IOptions<NodeOptions> options)
{
    public DateTimeOffset HealthySince => time.GetUtcNow() - options.Value.UnhealthyAfter;

    public Task<NodePlacement?> FindAsync(DbConnection connection, DbTransaction tx, string region, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<NodePlacement?>(new CommandDefinition(
            """
            SELECT n.node_id, n.signaling_url
            FROM nodes n
            WHERE n.region = @region AND n.last_heartbeat_at > @healthySince
            ORDER BY n.load + (SELECT count(*) FROM meetings m WHERE m.node_id = n.node_id AND m.created_at >= n.last_heartbeat_at), n.node_id
            LIMIT 1
            """,
            new { region, healthySince = HealthySince },
            tx,
            cancellationToken: ct));
}

/// <summary>
/// Records a node's heartbeat: its region, signalling URL and load (for placement) and its per-meeting connection
/// counts (for idle tracking). A node heard from again after being unhealthy has its individually reported
/// connections cleared: they ended while nobody was listening.
/// </summary>
internal sealed class NodeHeartbeatConsumer(NpgsqlDataSource dataSource, TimeProvider time, IOptions<NodeOptions> options) : IConsumer<NodeHeartbeat>
{
    public async Task Consume(ConsumeContext<NodeHeartbeat> context)
    {
        var beat = context.Message;
        if (string.IsNullOrWhiteSpace(beat.NodeId) || string.IsNullOrWhiteSpace(beat.Region) || string.IsNullOrWhiteSpace(beat.SignalingUrl))
        {
            return;
        }

        var now = time.GetUtcNow();
        var ct = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var previous = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT last_heartbeat_at FROM nodes WHERE node_id = @id FOR UPDATE", new { id = beat.NodeId }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO nodes (node_id, region, signaling_url, load, last_heartbeat_at)
            VALUES (@id, @region, @url, @load, @now)
            ON CONFLICT (node_id) DO UPDATE
            SET region = excluded.region, signaling_url = excluded.signaling_url, load = excluded.load, last_heartbeat_at = excluded.last_heartbeat_at
            """,
            new { id = beat.NodeId, region = beat.Region, url = beat.SignalingUrl, load = Math.Max(0, beat.Load), now },
            tx,
            cancellationToken: ct));
        if (previous is { } last && new DateTimeOffset(last, TimeSpan.Zero) < now - options.Value.UnhealthyAfter)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM live_connections WHERE node_id = @id", new { id = beat.NodeId }, tx, cancellationToken: ct));
        }

        var meetingIds = new List<Guid>();
        var counts = new List<int>();
        foreach (var m in beat.Meetings ?? [])
        {
            if (m is not null && m.Connections > 0 && !meetingIds.Contains(m.MeetingId))
            {
                meetingIds.Add(m.MeetingId);
                counts.Add(m.Connections);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM node_meeting_connections WHERE node_id = @id", new { id = beat.NodeId }, tx, cancellationToken: ct));
        if (meetingIds.Count > 0)
        {
            var ids = meetingIds.ToArray();
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO node_meeting_connections (node_id, meeting_id, connections)
                SELECT @id, m, c FROM unnest(@ids, @counts) AS t(m, c)
                """,
                new { id = beat.NodeId, ids, counts = counts.ToArray() },
                tx,
                cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE meetings p SET idle_since = NULL
                WHERE p.idle_since IS NOT NULL AND p.primary_meeting_id IS NULL
                  AND p.meeting_id IN (SELECT coalesce(m.primary_meeting_id, m.meeting_id) FROM meetings m WHERE m.meeting_id = ANY(@ids))
                """,
                new { ids },
                tx,
                cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
    }
}
