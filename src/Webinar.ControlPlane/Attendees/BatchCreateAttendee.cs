using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Attendees;

/// <summary>BatchCreateAttendee: creates what it can, reports the rest per attendee in Errors.</summary>
internal sealed record BatchCreateAttendee(string PlatformId, Guid MeetingId, BatchCreateAttendeeRequest Body) : IRequest<BatchCreateAttendeeResponse>;

internal sealed class BatchCreateAttendeeValidator : IValidator<BatchCreateAttendee>
{
    public string? Validate(BatchCreateAttendee request) =>
        request.Body.Attendees is { Count: >= 1 and <= AttendeeRules.MaxBatch }
            ? null
            : $"Attendees must list 1 to {AttendeeRules.MaxBatch} attendees.";
}

internal sealed class BatchCreateAttendeeHandler(NpgsqlDataSource dataSource, AttendeeWriter writer, OutboxSignal outbox, TimeProvider time)
    : IRequestHandler<BatchCreateAttendee, BatchCreateAttendeeResponse>
{
    public async Task<BatchCreateAttendeeResponse> Handle(BatchCreateAttendee request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, request.MeetingId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        var (created, errors) = await writer.CreateAsync(connection, tx, meeting, request.Body.Attendees!, time.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        if (created.Count > 0)
        {
            outbox.Notify();
        }

        return new BatchCreateAttendeeResponse(created, errors);
    }
}
