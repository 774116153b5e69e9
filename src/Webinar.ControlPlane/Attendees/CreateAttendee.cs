using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Attendees;

internal sealed record CreateAttendee(string PlatformId, Guid MeetingId, CreateAttendeeRequest Body) : IRequest<AttendeeResponse>;

internal sealed class CreateAttendeeValidator : IValidator<CreateAttendee>
{
    public string? Validate(CreateAttendee request) => AttendeeRules.Validate(request.Body);
}

internal sealed class CreateAttendeeHandler(NpgsqlDataSource dataSource, AttendeeWriter writer, OutboxSignal outbox, TimeProvider time)
    : IRequestHandler<CreateAttendee, AttendeeResponse>
{
    public async Task<AttendeeResponse> Handle(CreateAttendee request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, request.MeetingId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        var (created, errors) = await writer.CreateAsync(connection, tx, meeting, [request.Body], time.GetUtcNow(), ct);
        if (created.Count == 0)
        {
            var error = errors[0];
            throw error.ErrorCode == ErrorCodes.LimitExceeded ? ApiException.LimitExceeded(error.ErrorMessage) : ApiException.BadRequest(error.ErrorMessage);
        }

        await tx.CommitAsync(ct);
        outbox.Notify();
        return new AttendeeResponse(created[0]);
    }
}
