using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;

namespace Webinar.ControlPlane.Meetings;

internal sealed record ListReplicas(string PlatformId, Guid MeetingId) : IRequest<ReplicasResponse>;

internal sealed class ListReplicasHandler(NpgsqlDataSource dataSource) : IRequestHandler<ListReplicas, ReplicasResponse>
{
    public async Task<ReplicasResponse> Handle(ListReplicas request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await MeetingStore.GetOwnedAsync(connection, null, request.PlatformId, request.MeetingId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        if (row.IsReplica)
        {
            return new ReplicasResponse([]);
        }

        var replicas = await MeetingStore.GetReplicasAsync(connection, null, request.MeetingId, forUpdate: false, ct);
        return new ReplicasResponse(replicas.Select(r => r.ToMeeting()).ToList());
    }
}
