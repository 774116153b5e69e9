namespace Webinar.Contracts.Meetings;

// Integration events published by the control plane (through its outbox) and consumed by SFU nodes
// and by anyone else on the bus. Every SFU node consumes them on a queue of its own, so each node
// sees every event.

/// <summary>Why a meeting was deleted.</summary>
public enum MeetingDeletionReason
{
    /// <summary>DeleteMeeting was called (on this meeting or on its primary).</summary>
    Api,

    /// <summary>The idle reaper deleted it: nobody connected for the idle timeout.</summary>
    Idle,
}

/// <summary>A primary meeting was created and placed on <paramref name="NodeId"/>.</summary>
public sealed record MeetingCreated(
    Guid MeetingId,
    string? ExternalMeetingId,
    string MediaRegion,
    string NodeId,
    int MaxAttendees,
    DateTimeOffset CreatedAt);

/// <summary>A replica meeting was created for <paramref name="PrimaryMeetingId"/> and placed on <paramref name="NodeId"/>.</summary>
public sealed record ReplicaCreated(
    Guid MeetingId,
    Guid PrimaryMeetingId,
    string? ExternalMeetingId,
    string MediaRegion,
    string NodeId,
    string PrimaryMediaRegion,
    string PrimaryNodeId,
    int MaxAttendees,
    DateTimeOffset CreatedAt);

/// <summary>
/// A meeting was deleted; when it was a primary, <paramref name="ReplicaMeetingIds"/> lists the replicas
/// deleted with it (no separate event is published for them). Every attendee of all of them is gone.
/// </summary>
public sealed record MeetingDeleted(
    Guid MeetingId,
    Guid? PrimaryMeetingId,
    IReadOnlyList<Guid> ReplicaMeetingIds,
    MeetingDeletionReason Reason,
    DateTimeOffset DeletedAt);

/// <summary>An attendee was created; its join token is not part of the event.</summary>
public sealed record AttendeeCreated(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    AttendeeCapabilities Capabilities,
    DateTimeOffset CreatedAt);

/// <summary>An attendee was deleted by DeleteAttendee: its token stops working on every node and a live connection is closed.</summary>
public sealed record AttendeeDeleted(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    DateTimeOffset DeletedAt);
