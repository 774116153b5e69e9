using Dapper;
using Npgsql;
using Webinar.ControlPlane.Connections;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Operations;

/// <summary>A node as its last heartbeat described it.</summary>
internal sealed record NodeOverview(
    string NodeId, string Region, string SignalingUrl, bool Healthy, int Load, int Connections, double SecondsSinceHeartbeat);

/// <summary>One of the caller's live meetings: a primary (no <c>PrimaryMeetingId</c>) or a replica.</summary>
internal sealed record MeetingOverview(
    Guid MeetingId, Guid? PrimaryMeetingId, string? ExternalMeetingId, string MediaRegion, string NodeId, int Connections,
    int Attendees, DateTime CreatedAt, string? ArchiveStatus);

/// <summary>Work the control plane still owes: bus events not yet published, webhooks not yet delivered or given up.</summary>
internal sealed record BacklogOverview(long OutboxUnsent, long OutboxFailed, long WebhooksPending, long WebhooksFailed);

/// <summary><c>GET /operations/overview</c>: what the operator page shows.</summary>
internal sealed record OperationsOverviewResponse(
    DateTimeOffset At, IReadOnlyList<NodeOverview> Nodes, IReadOnlyList<MeetingOverview> Meetings, BacklogOverview Backlog);

/// <summary>
/// The operator's view (<c>operations.html</c> beside the demo): every node with its load and connections, the
/// calling platform's meetings (never another platform's) with their connections and archive, and the outbox and
/// webhook backlogs. Node figures are infrastructure, the same for every platform; packet-level figures live in
/// each service's <c>/metrics</c>.
/// </summary>
internal static class OperationsOverview
{
    /// <summary>Newest meetings shown; an operator looking for one meeting uses GetMeeting.</summary>
    public const int MeetingLimit = 200;

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/operations/overview", async (HttpContext http, NpgsqlDataSource dataSource, NodeLiveness liveness, CancellationToken ct) =>
                TypedResults.Ok(await ReadAsync(dataSource, liveness, http.User.PlatformId(), ct)))
            .RequireAuthorization()
            .WithTags("Operations")
            .WithName("GetOperationsOverview");
        return app;
    }

    public static async Task<OperationsOverviewResponse> ReadAsync(NpgsqlDataSource dataSource, NodeLiveness liveness, string platformId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var nodes = (await connection.QueryAsync<NodeOverview>(new CommandDefinition(
            $"""
            SELECT n.node_id AS NodeId, n.region AS Region, n.signaling_url AS SignalingUrl,
                   ({NodeLiveness.HealthySql("n")}) AS Healthy, n.load AS Load,
                   coalesce((SELECT sum(c.connections) FROM node_meeting_connections c WHERE c.node_id = n.node_id), 0)::int AS Connections,
                   extract(epoch FROM now() - n.last_heartbeat_at)::float8 AS SecondsSinceHeartbeat
            FROM nodes n ORDER BY n.region, n.node_id
            """,
            liveness.Parameters(),
            cancellationToken: ct))).AsList();
        var meetings = (await connection.QueryAsync<MeetingOverview>(new CommandDefinition(
            $"""
            SELECT m.meeting_id AS MeetingId, m.primary_meeting_id AS PrimaryMeetingId, m.external_meeting_id AS ExternalMeetingId,
                   m.media_region AS MediaRegion, m.node_id AS NodeId, ({LiveConnections.MeetingConnectionsSql("m")})::int AS Connections,
                   m.attendee_count AS Attendees, m.created_at AS CreatedAt,
                   (SELECT a.status FROM archives a WHERE a.meeting_id = coalesce(m.primary_meeting_id, m.meeting_id)
                    ORDER BY a.created_at DESC LIMIT 1) AS ArchiveStatus
            FROM meetings m WHERE m.platform_id = @platform
            ORDER BY coalesce((SELECT p.created_at FROM meetings p WHERE p.meeting_id = m.primary_meeting_id), m.created_at) DESC,
                     coalesce(m.primary_meeting_id, m.meeting_id), m.primary_meeting_id NULLS FIRST, m.media_region
            LIMIT @limit
            """,
            liveness.Parameters(new { platform = platformId, limit = MeetingLimit }),
            cancellationToken: ct))).AsList();
        var backlog = await connection.QuerySingleAsync<BacklogOverview>(new CommandDefinition(
            """
            SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL) AS OutboxUnsent,
                   (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS OutboxFailed,
                   (SELECT count(*) FROM webhook_deliveries WHERE platform_id = @platform AND delivered_at IS NULL AND failed_at IS NULL) AS WebhooksPending,
                   (SELECT count(*) FROM webhook_deliveries WHERE platform_id = @platform AND failed_at IS NOT NULL) AS WebhooksFailed
            """,
            new { platform = platformId },
            cancellationToken: ct));
        return new OperationsOverviewResponse(DateTimeOffset.UtcNow, nodes, meetings, backlog);
    }
}
