using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;

namespace Webinar.ControlPlane.Meetings;

internal sealed record GetMeeting(string PlatformId, Guid MeetingId) : IRequest<MeetingResponse>;

internal sealed class GetMeetingHandler(NpgsqlDataSource dataSource) : IRequestHandler<GetMeeting, MeetingResponse>
{
    public async Task<MeetingResponse> Handle(GetMeeting request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await MeetingStore.GetOwnedAsync(connection, null, request.PlatformId, request.MeetingId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        return new MeetingResponse(row.ToMeeting());
    }
}
