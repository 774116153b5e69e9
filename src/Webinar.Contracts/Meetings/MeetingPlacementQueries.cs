namespace Webinar.Contracts.Meetings;

// Request/response messages answered by the control plane from PostgreSQL, the source of truth for placement.
// An SFU node asks them with MassTransit's request client (published, so any control-plane instance answers):
// at startup to rebuild what it forgot (GetNodeMeetings), and when a join names a meeting it has not heard of
// (GetMeetingPlacement).

/// <summary>Asks where <paramref name="MeetingId"/> is placed. Answered with <see cref="MeetingPlacement"/>.</summary>
public sealed record GetMeetingPlacement(Guid MeetingId);

/// <summary>
/// Where a meeting is placed, as MeetingCreated/ReplicaCreated announced it. <paramref name="Exists"/> is false for an
/// unknown or deleted meeting (every other field is then empty). For a replica the Primary* fields name its primary
/// and the primary's node. <paramref name="RevokedAttendeeIds"/> are the attendees of this meeting deleted by
/// DeleteAttendee whose join tokens may not have expired yet: a node that missed their AttendeeDeleted events refuses
/// them all the same.
/// </summary>
public sealed record MeetingPlacement(
    Guid MeetingId,
    bool Exists,
    string? ExternalMeetingId,
    string MediaRegion,
    string NodeId,
    Guid? PrimaryMeetingId,
    string? PrimaryNodeId,
    string? PrimaryMediaRegion,
    int MaxAttendees,
    IReadOnlyList<Guid> RevokedAttendeeIds)
{
    /// <summary>The answer for a meeting that does not exist (never created, or deleted).</summary>
    public static MeetingPlacement Missing(Guid meetingId) => new(meetingId, false, null, "", "", null, null, null, 0, []);
}

/// <summary>Asks for every meeting placed on <paramref name="NodeId"/>. Answered with <see cref="NodeMeetings"/>.</summary>
public sealed record GetNodeMeetings(string NodeId);

/// <summary>
/// Every meeting placed on the node, primaries and replicas, plus the primaries (wherever placed) of the replicas on
/// it, so the node knows where to relay from and which primary attendees' tokens are revoked for promotion.
/// </summary>
public sealed record NodeMeetings(string NodeId, IReadOnlyList<MeetingPlacement> Meetings);
