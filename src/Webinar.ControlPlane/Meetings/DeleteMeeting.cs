using MediatR;
using Npgsql;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Meetings;

internal sealed record DeleteMeeting(string PlatformId, Guid MeetingId) : IRequest<Unit>;

internal sealed class DeleteMeetingHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, TimeProvider time) : IRequestHandler<DeleteMeeting, Unit>
{
    public async Task<Unit> Handle(DeleteMeeting request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        _ = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, request.MeetingId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        _ = await MeetingDeleter.DeleteAsync(connection, tx, request.MeetingId, MeetingDeletionReason.Api, time.GetUtcNow(), ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        await tx.CommitAsync(ct);
        outbox.Notify();
        return Unit.Value;
    }
}
