using System.Data.Common;
using Dapper;
using Webinar.Contracts.Archives;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Archives;
using Webinar.ControlPlane.Outbox;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Meetings;

/// <summary>
/// Deletes a meeting inside the caller's transaction: a primary together with its replicas and every attendee of
/// all of them (one MeetingDeleted event listing the replicas), a replica alone (its primary's replica count goes
/// down). Rows are locked primary first, then replicas, the same order every other writer uses.
/// </summary>
internal static class MeetingDeleter
{
    /// <summary>Returns the deleted meeting, or null when it no longer exists (someone else deleted it).</summary>
    public static async Task<MeetingRow?> DeleteAsync(
        DbConnection connection,
        DbTransaction tx,
        Guid meetingId,
        MeetingDeletionReason reason,
        DateTimeOffset now,
        CancellationToken ct)
    {
        var peek = await MeetingStore.GetAsync(connection, tx, meetingId, forUpdate: false, ct);
        if (peek is null)
        {
            return null;
        }

        if (peek.PrimaryMeetingId is { } primaryId)
        {
            // Lock the primary before the replica.
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT 1 FROM meetings WHERE meeting_id = @primaryId FOR UPDATE", new { primaryId }, tx, cancellationToken: ct));
        }

        var target = await MeetingStore.GetAsync(connection, tx, meetingId, forUpdate: true, ct);
        if (target is null)
        {
            return null;
        }

        var replicas = target.IsReplica ? [] : await MeetingStore.GetReplicasAsync(connection, tx, meetingId, forUpdate: true, ct);
        var ids = new Guid[replicas.Count + 1];
        ids[0] = target.MeetingId;
        for (var i = 0; i < replicas.Count; i++)
        {
            ids[i + 1] = replicas[i].MeetingId;
        }

        await ArchiveLifecycle.StopForMeetingsAsync(connection, tx, ids, ArchiveStopReasons.MeetingEnded, now, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM live_connections WHERE meeting_id = ANY(@ids);
            DELETE FROM node_meeting_connections WHERE meeting_id = ANY(@ids);
            DELETE FROM meetings WHERE meeting_id = ANY(@replicaIds);
            DELETE FROM meetings WHERE meeting_id = @id;
            """,
            new { ids, replicaIds = ids[1..], id = target.MeetingId },
            tx,
            cancellationToken: ct));
        if (target.PrimaryMeetingId is { } primary)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE meetings SET replica_count = replica_count - 1 WHERE meeting_id = @primary", new { primary }, tx, cancellationToken: ct));
        }

        await OutboxWriter.AddAsync(connection, tx, new MeetingDeleted(target.MeetingId, target.PrimaryMeetingId, ids[1..], reason, now), now, ct);
        var why = reason == MeetingDeletionReason.Idle ? "Idle" : "Api";
        await WebhookWriter.AddAsync(connection, tx, target,
            new WebhookEvent(WebhookEventTypes.MeetingEnded, now, target.MeetingId, target.ExternalMeetingId, Reason: why), ct);
        foreach (var replica in replicas)
        {
            await WebhookWriter.AddAsync(connection, tx, replica,
                new WebhookEvent(WebhookEventTypes.MeetingEnded, now, replica.MeetingId, replica.ExternalMeetingId, Reason: why), ct);
        }

        return target;
    }
}
