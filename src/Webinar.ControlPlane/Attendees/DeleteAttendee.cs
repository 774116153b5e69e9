using Dapper;
using MediatR;
using Npgsql;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Attendees;

/// <summary>
/// DeleteAttendee: the attendee is gone from the API at once, frees a place in the meeting, and an AttendeeDeleted
/// event (through the outbox) tells every node to refuse its token and close its connection.
/// </summary>
internal sealed record DeleteAttendee(string PlatformId, Guid MeetingId, Guid AttendeeId) : IRequest<Unit>;

internal sealed class DeleteAttendeeHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, TimeProvider time) : IRequestHandler<DeleteAttendee, Unit>
{
    public async Task<Unit> Handle(DeleteAttendee request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, request.MeetingId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        var externalUserId = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            """
            UPDATE attendees SET deleted_at = @now
            WHERE attendee_id = @attendeeId AND meeting_id = @meetingId AND deleted_at IS NULL
            RETURNING external_user_id
            """,
            new { now, attendeeId = request.AttendeeId, meetingId = request.MeetingId },
            tx,
            cancellationToken: ct))
            ?? throw ApiException.NotFound($"Attendee {request.AttendeeId} does not exist in meeting {request.MeetingId}.");
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE meetings SET attendee_count = attendee_count - 1 WHERE meeting_id = @meetingId",
            new { meetingId = request.MeetingId },
            tx,
            cancellationToken: ct));
        await OutboxWriter.AddAsync(connection, tx, new AttendeeDeleted(request.MeetingId, request.AttendeeId, externalUserId, now), now, ct);
        await WebhookWriter.AddAsync(connection, tx, meeting,
            new WebhookEvent(WebhookEventTypes.AttendeeDeleted, now, meeting.MeetingId, meeting.ExternalMeetingId, request.AttendeeId, externalUserId), ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        return Unit.Value;
    }
}
