using Dapper;
using MassTransit;
using Npgsql;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Archives;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Connections;

/// <summary>
/// Records a connection a node reports: the meeting's group stops being idle, the meeting's first connection sends
/// the MeetingStarted webhook, and every join the AttendeeJoined webhook. A redelivered message changes nothing, and
/// neither does a join whose AttendeeLeft was handled first (the two travel on separate queues): the Left left a
/// tombstone in <c>ended_connections</c>. Times are the database's clock.
/// </summary>
internal sealed class AttendeeJoinedConsumer(NpgsqlDataSource dataSource, TimeProvider time, IOptions<ArchiveOptions> archives) : IConsumer<AttendeeJoined>
{
    public async Task Consume(ConsumeContext<AttendeeJoined> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetAsync(connection, tx, m.MeetingId, forUpdate: false, ct);
        if (meeting is null)
        {
            return;
        }

        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO live_connections (connection_id, node_id, meeting_id, attendee_id, joined_at)
            SELECT @connectionId, @nodeId, @meetingId, @attendeeId, now()
            WHERE NOT EXISTS (SELECT 1 FROM ended_connections WHERE connection_id = @connectionId)
            ON CONFLICT (connection_id) DO NOTHING
            """,
            new { connectionId = m.ConnectionId, nodeId = m.NodeId ?? "", meetingId = m.MeetingId, attendeeId = m.AttendeeId },
            tx,
            cancellationToken: ct));
        if (inserted == 0)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE meetings SET idle_since = NULL WHERE meeting_id = @primary AND idle_since IS NOT NULL",
            new { primary = meeting.PrimaryMeetingId ?? meeting.MeetingId },
            tx,
            cancellationToken: ct));
        var started = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE meetings SET started_at = @now WHERE meeting_id = @id AND started_at IS NULL",
            new { now, id = meeting.MeetingId },
            tx,
            cancellationToken: ct));
        if (started > 0)
        {
            await WebhookWriter.AddAsync(connection, tx, meeting,
                new WebhookEvent(WebhookEventTypes.MeetingStarted, now, meeting.MeetingId, meeting.ExternalMeetingId), ct);
        }

        await WebhookWriter.AddAsync(connection, tx, meeting,
            new WebhookEvent(WebhookEventTypes.AttendeeJoined, now, meeting.MeetingId, meeting.ExternalMeetingId, m.AttendeeId, m.ExternalUserId), ct);
        await ArchiveAutomation.OnConnectedAsync(connection, tx, meeting.PrimaryMeetingId ?? meeting.MeetingId, archives.Value.MaxDuration, now, ct);
        await tx.CommitAsync(ct);
    }
}

/// <summary>
/// Removes a connection; when it was the last live one in the primary and its replicas, the idle clock of the
/// primary starts now (the database's clock). Sends the AttendeeLeft webhook. A Left for a connection not recorded
/// (yet) leaves a tombstone so its late AttendeeJoined adds nothing.
/// </summary>
internal sealed class AttendeeLeftConsumer(NpgsqlDataSource dataSource, NodeLiveness liveness, TimeProvider time) : IConsumer<AttendeeLeft>
{
    public async Task Consume(ConsumeContext<AttendeeLeft> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var removed = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM live_connections WHERE connection_id = @connectionId", new { connectionId = m.ConnectionId }, tx, cancellationToken: ct));
        if (removed == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO ended_connections (connection_id) VALUES (@connectionId) ON CONFLICT DO NOTHING",
                new { connectionId = m.ConnectionId }, tx, cancellationToken: ct));
        }

        var meeting = await MeetingStore.GetAsync(connection, tx, m.MeetingId, forUpdate: false, ct);
        if (removed == 0 || meeting is null)
        {
            await tx.CommitAsync(ct);
            return;
        }

        var primary = meeting.PrimaryMeetingId ?? meeting.MeetingId;
        if (!await LiveConnections.GroupHasLiveConnectionAsync(connection, tx, primary, liveness, ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE meetings SET idle_since = now() WHERE meeting_id = @primary AND idle_since IS NULL",
                new { primary },
                tx,
                cancellationToken: ct));
            await ArchiveAutomation.OnIdleAsync(connection, tx, primary, now, ct);
        }

        await WebhookWriter.AddAsync(connection, tx, meeting,
            new WebhookEvent(WebhookEventTypes.AttendeeLeft, now, meeting.MeetingId, meeting.ExternalMeetingId, m.AttendeeId, m.ExternalUserId, m.Reason), ct);
        await tx.CommitAsync(ct);
    }
}
