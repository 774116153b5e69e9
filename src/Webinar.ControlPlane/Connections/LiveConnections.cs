using System.Data.Common;
using Dapper;
using Webinar.ControlPlane.Nodes;

namespace Webinar.ControlPlane.Connections;

/// <summary>
/// Whether a primary or any of its replicas has a live connection: one reported by AttendeeJoined (and not yet
/// left) or counted in a heartbeat, on a node whose reports still count (<see cref="NodeLiveness.CountsSql"/>: not
/// known gone). A node that is merely silent, as every node is during a broker outage, still counts.
/// </summary>
internal static class LiveConnections
{
    public static Task<bool> GroupHasLiveConnectionAsync(DbConnection connection, DbTransaction? tx, Guid primaryMeetingId, NodeLiveness liveness, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS ({GroupLiveSql("@primary")})",
            liveness.Parameters(new { primary = primaryMeetingId }),
            tx,
            cancellationToken: ct));

    /// <summary>SQL selecting a row when the group of <paramref name="primaryExpression"/> has a live connection; needs <see cref="NodeLiveness.Parameters"/>.</summary>
    public static string GroupLiveSql(string primaryExpression) =>
        $"""
        SELECT 1 FROM meetings g
        JOIN live_connections c ON c.meeting_id = g.meeting_id
        JOIN nodes n ON n.node_id = c.node_id AND {NodeLiveness.CountsSql("n")}
        WHERE g.meeting_id = {primaryExpression} OR g.primary_meeting_id = {primaryExpression}
        UNION ALL
        SELECT 1 FROM meetings g
        JOIN node_meeting_connections c ON c.meeting_id = g.meeting_id AND c.connections > 0
        JOIN nodes n ON n.node_id = c.node_id AND {NodeLiveness.CountsSql("n")}
        WHERE g.meeting_id = {primaryExpression} OR g.primary_meeting_id = {primaryExpression}
        """;

    /// <summary>
    /// SQL of how many connections the meeting row <paramref name="alias"/> has now: the larger of its nodes' last
    /// heartbeat counts and its reported joins not yet left, on nodes whose reports still count; needs
    /// <see cref="NodeLiveness.Parameters"/>.
    /// </summary>
    public static string MeetingConnectionsSql(string alias) =>
        $"""
        GREATEST(
            (SELECT coalesce(sum(c.connections), 0) FROM node_meeting_connections c
             JOIN nodes n ON n.node_id = c.node_id AND {NodeLiveness.CountsSql("n")} WHERE c.meeting_id = {alias}.meeting_id),
            (SELECT count(*) FROM live_connections c
             JOIN nodes n ON n.node_id = c.node_id AND {NodeLiveness.CountsSql("n")} WHERE c.meeting_id = {alias}.meeting_id))
        """;
}
