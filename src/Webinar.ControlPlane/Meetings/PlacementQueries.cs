using System.Data;
using System.Data.Common;
using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Meetings;

/// <summary>Answers <see cref="GetMeetingPlacement"/>: where one meeting is placed, or Exists=false.</summary>
internal sealed class GetMeetingPlacementConsumer(PlacementReader reader) : IConsumer<GetMeetingPlacement>
{
    public async Task Consume(ConsumeContext<GetMeetingPlacement> context)
    {
        var meetingId = context.Message.MeetingId;
        var found = await reader.ReadAsync(meetingId, nodeId: null, context.CancellationToken);
        await context.RespondAsync(found.Count == 1 ? found[0] : MeetingPlacement.Missing(meetingId));
    }
}

/// <summary>Answers <see cref="GetNodeMeetings"/>: every meeting on a node and the primaries of its replicas.</summary>
internal sealed class GetNodeMeetingsConsumer(PlacementReader reader) : IConsumer<GetNodeMeetings>
{
    public async Task Consume(ConsumeContext<GetNodeMeetings> context)
    {
        var nodeId = context.Message.NodeId;
        IReadOnlyList<MeetingPlacement> meetings = string.IsNullOrWhiteSpace(nodeId)
            ? []
            : await reader.ReadAsync(null, nodeId, context.CancellationToken);
        await context.RespondAsync(new NodeMeetings(nodeId ?? "", meetings));
    }
}

/// <summary>
/// Reads placements and the revoked attendees that go with them in one repeatable-read snapshot, so a revocation
/// is either in the answer or published after it (and then reaches the node as AttendeeDeleted).
/// </summary>
internal sealed class PlacementReader(NpgsqlDataSource dataSource, IOptions<JoinTokenOptions> tokens, TimeProvider time)
{
    private const string Select =
        """
        SELECT m.meeting_id, m.external_meeting_id, m.media_region, m.node_id, m.primary_meeting_id,
               p.node_id AS primary_node_id, p.media_region AS primary_media_region, m.max_attendees
        FROM meetings m LEFT JOIN meetings p ON p.meeting_id = m.primary_meeting_id
        """;

    /// <summary>One meeting by id, or every meeting of a node with the primaries of its replicas.</summary>
    public async Task<List<MeetingPlacement>> ReadAsync(Guid? meetingId, string? nodeId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var rows = meetingId is { } id
            ? (await connection.QueryAsync<PlacementRow>(new CommandDefinition(
                Select + " WHERE m.meeting_id = @id", new { id }, tx, cancellationToken: ct))).AsList()
            : (await connection.QueryAsync<PlacementRow>(new CommandDefinition(
                Select +
                """
                 WHERE m.node_id = @nodeId
                    OR m.meeting_id IN (SELECT r.primary_meeting_id FROM meetings r WHERE r.node_id = @nodeId AND r.primary_meeting_id IS NOT NULL)
                ORDER BY m.primary_meeting_id NULLS FIRST, m.created_at, m.meeting_id
                """,
                new { nodeId },
                tx,
                cancellationToken: ct))).AsList();
        var revoked = await RevokedAsync(connection, tx, rows, ct);
        await tx.CommitAsync(ct);

        var result = new List<MeetingPlacement>(rows.Count);
        foreach (var row in rows)
        {
            result.Add(new MeetingPlacement(
                row.MeetingId,
                true,
                row.ExternalMeetingId,
                row.MediaRegion,
                row.NodeId,
                row.PrimaryMeetingId,
                row.PrimaryNodeId,
                row.PrimaryMediaRegion,
                row.MaxAttendees,
                revoked.TryGetValue(row.MeetingId, out var ids) ? ids : []));
        }

        return result;
    }

    /// <summary>
    /// Deleted attendees per meeting whose token may still verify: a token is issued when its attendee is created
    /// and lives <see cref="JoinTokenOptions.Lifetime"/>, so older ones are refused as expired anyway.
    /// </summary>
    private async Task<Dictionary<Guid, List<Guid>>> RevokedAsync(DbConnection connection, DbTransaction tx, List<PlacementRow> rows, CancellationToken ct)
    {
        var result = new Dictionary<Guid, List<Guid>>();
        if (rows.Count == 0)
        {
            return result;
        }

        var ids = new Guid[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            ids[i] = rows[i].MeetingId;
        }

        var issuedAfter = time.GetUtcNow() - tokens.Value.Lifetime;
        var revoked = await connection.QueryAsync<(Guid MeetingId, Guid AttendeeId)>(new CommandDefinition(
            """
            SELECT meeting_id, attendee_id FROM attendees
            WHERE meeting_id = ANY(@ids) AND deleted_at IS NOT NULL AND created_at > @issuedAfter
            ORDER BY meeting_id, seq
            """,
            new { ids, issuedAfter },
            tx,
            cancellationToken: ct));
        foreach (var (meeting, attendee) in revoked)
        {
            if (!result.TryGetValue(meeting, out var list))
            {
                list = [];
                result[meeting] = list;
            }

            list.Add(attendee);
        }

        return result;
    }

    private sealed class PlacementRow
    {
        public Guid MeetingId { get; init; }

        public string? ExternalMeetingId { get; init; }

        public string MediaRegion { get; init; } = "";

        public string NodeId { get; init; } = "";

        public Guid? PrimaryMeetingId { get; init; }

        public string? PrimaryNodeId { get; init; }

        public string? PrimaryMediaRegion { get; init; }

        public int MaxAttendees { get; init; }
    }
}
