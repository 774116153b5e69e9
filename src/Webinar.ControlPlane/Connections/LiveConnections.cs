using System.Data.Common;
using Dapper;

namespace Webinar.ControlPlane.Connections;

/// <summary>
/// Whether a primary or any of its replicas has a live connection: one reported by AttendeeJoined (and not yet
/// left) or counted in a heartbeat, on a node that is still healthy. Connections on unhealthy nodes do not count.
/// </summary>
internal static class LiveConnections
{
    public static Task<bool> GroupHasLiveConnectionAsync(DbConnection connection, DbTransaction? tx, Guid primaryMeetingId, DateTimeOffset healthySince, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS ({GroupLiveSql("@primary")})",
            new { primary = primaryMeetingId, healthySince },
            tx,
            cancellationToken: ct));

    /// <summary>SQL selecting a row when the group of <paramref name="primaryExpression"/> has a live connection; needs @healthySince.</summary>
    public static string GroupLiveSql(string primaryExpression) =>
        $"""
        SELECT 1 FROM meetings g
        JOIN live_connections c ON c.meeting_id = g.meeting_id
        JOIN nodes n ON n.node_id = c.node_id AND n.last_heartbeat_at > @healthySince
        WHERE g.meeting_id = {primaryExpression} OR g.primary_meeting_id = {primaryExpression}
        UNION ALL
        SELECT 1 FROM meetings g
        JOIN node_meeting_connections c ON c.meeting_id = g.meeting_id AND c.connections > 0
        JOIN nodes n ON n.node_id = c.node_id AND n.last_heartbeat_at > @healthySince
        WHERE g.meeting_id = {primaryExpression} OR g.primary_meeting_id = {primaryExpression}
        """;
}
