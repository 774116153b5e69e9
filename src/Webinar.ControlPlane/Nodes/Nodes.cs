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
/// its last heartbeat (so a burst of creates between two heartbeats spreads out), ties by node id. Health is judged
/// on the database's clock (<see cref="NodeLiveness"/>).
/// </summary>
internal sealed class Placement(NodeLiveness liveness)
{
    public async Task<NodePlacement?> FindAsync(DbConnection connection, DbTransaction tx, string region, CancellationToken ct)
    {
        var node = await connection.QuerySingleOrDefaultAsync<NodePlacement?>(new CommandDefinition(
            $"""
            SELECT n.node_id, n.signaling_url
            FROM nodes n
            WHERE n.region = @region AND {NodeLiveness.HealthySql("n")}
            ORDER BY n.load + n.placed_since_heartbeat, n.node_id
            LIMIT 1
            FOR UPDATE
            """,
            liveness.Parameters(new { region }),
            tx,
            cancellationToken: ct));
        if (node is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE nodes SET placed_since_heartbeat = placed_since_heartbeat + 1 WHERE node_id = @id", new { id = node.NodeId }, tx, cancellationToken: ct));
        }

        return node;
    }
}

/// <summary>
/// Records a node's heartbeat at the database's clock: its region, signalling URL and load (for placement) and its
/// per-meeting connection counts (for idle tracking). A heartbeat that lists the node's connections reconciles
/// <c>live_connections</c> with it: a row the node no longer has (its AttendeeLeft was lost, or handled
/// before its AttendeeJoined) is removed once it is older than one heartbeat interval, so a join still on its way is
/// never taken for a ghost. A heartbeat without the list (an older node) clears the node's rows when it comes back
/// after being unhealthy, as before.
/// </summary>
internal sealed class NodeHeartbeatConsumer(NpgsqlDataSource dataSource, NodeLiveness liveness, IOptions<NodeOptions> options) : IConsumer<NodeHeartbeat>
{
    public async Task Consume(ConsumeContext<NodeHeartbeat> context)
    {
        var beat = context.Message;
        if (string.IsNullOrWhiteSpace(beat.NodeId) || string.IsNullOrWhiteSpace(beat.Region) || string.IsNullOrWhiteSpace(beat.SignalingUrl))
        {
            return;
        }

        var ct = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var wasUnhealthy = await connection.ExecuteScalarAsync<bool?>(new CommandDefinition(
            $"SELECT NOT ({NodeLiveness.HealthySql("n")}) FROM nodes n WHERE n.node_id = @id FOR UPDATE",
            liveness.Parameters(new { id = beat.NodeId }), tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO nodes (node_id, region, signaling_url, load, last_heartbeat_at)
            VALUES (@id, @region, @url, @load, now())
            ON CONFLICT (node_id) DO UPDATE
            SET region = excluded.region, signaling_url = excluded.signaling_url, load = excluded.load,
                last_heartbeat_at = excluded.last_heartbeat_at, placed_since_heartbeat = 0
            """,
            new { id = beat.NodeId, region = beat.Region, url = beat.SignalingUrl, load = Math.Max(0, beat.Load) },
            tx,
            cancellationToken: ct));
        if (beat.ConnectionIds is { } live)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                DELETE FROM live_connections
                WHERE node_id = @id AND joined_at < now() - @settle AND NOT (connection_id = ANY(@live))
                """,
                new { id = beat.NodeId, live = live.ToArray(), settle = options.Value.HeartbeatInterval },
                tx,
                cancellationToken: ct));
        }
        else if (wasUnhealthy == true)
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
