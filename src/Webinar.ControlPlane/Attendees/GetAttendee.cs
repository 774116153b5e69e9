using Dapper;
using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;

namespace Webinar.ControlPlane.Attendees;

internal sealed record GetAttendee(string PlatformId, Guid MeetingId, Guid AttendeeId) : IRequest<AttendeeResponse>;

internal sealed class GetAttendeeHandler(NpgsqlDataSource dataSource) : IRequestHandler<GetAttendee, AttendeeResponse>
{
    public async Task<AttendeeResponse> Handle(GetAttendee request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        _ = await MeetingStore.GetOwnedAsync(connection, null, request.PlatformId, request.MeetingId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Attendee {request.AttendeeId} does not exist in meeting {request.MeetingId}.");
        var row = await connection.QuerySingleOrDefaultAsync<AttendeeRow?>(new CommandDefinition(
            """
            SELECT attendee_id, meeting_id, external_user_id, audio, video, content, join_token, seq, role
            FROM attendees WHERE attendee_id = @attendeeId AND meeting_id = @meetingId AND deleted_at IS NULL
            """,
            new { attendeeId = request.AttendeeId, meetingId = request.MeetingId },
            cancellationToken: ct))
            ?? throw ApiException.NotFound($"Attendee {request.AttendeeId} does not exist in meeting {request.MeetingId}.");
        return new AttendeeResponse(row.ToAttendee());
    }
}
