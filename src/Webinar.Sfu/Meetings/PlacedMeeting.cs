namespace Webinar.Sfu.Meetings;

/// <summary>
/// A meeting as the control plane placed it, learnt from MeetingCreated or ReplicaCreated. For a replica,
/// <see cref="PrimaryMeetingId"/> and <see cref="PrimaryNodeId"/> name its primary and the node that hosts it.
/// </summary>
internal sealed record PlacedMeeting(
    Guid MeetingId,
    string NodeId,
    Guid? PrimaryMeetingId,
    string? PrimaryNodeId,
    int MaxAttendees)
{
    public bool IsReplica => PrimaryMeetingId is not null;

    /// <summary>The primary meeting whose presence and media this meeting shows: itself for a primary.</summary>
    public Guid PresenceMeetingId => PrimaryMeetingId ?? MeetingId;
}
