using Webinar.Sfu.Meetings;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Sessions;

/// <summary>
/// One meeting placed on this node: its sessions (one per attendee), the streams its media announced, and — for a
/// primary — the replica attendees promoted into it. Mutable state is guarded by <see cref="MeetingRooms"/>'s lock;
/// <see cref="Media"/> is opened lazily and never touched while that lock is held.
/// </summary>
internal sealed class MeetingRoom : IMeetingMediaListener
{
    private readonly MeetingRooms _rooms;
    private readonly Lazy<IMeetingMedia> _media;

    public MeetingRoom(MeetingRooms rooms, PlacedMeeting placement, int capacity, IMediaPlane plane)
    {
        _rooms = rooms;
        Placement = placement;
        Capacity = capacity;
        var mediaPlacement = new MeetingMediaPlacement(placement.MeetingId, placement.NodeId, placement.PrimaryMeetingId, placement.PrimaryNodeId);
        _media = new Lazy<IMeetingMedia>(() => plane.OpenMeeting(mediaPlacement, this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public PlacedMeeting Placement { get; }

    public Guid MeetingId => Placement.MeetingId;

    public bool IsReplica => Placement.IsReplica;

    public int Capacity { get; }

    public IMeetingMedia Media => _media.Value;

    public bool MediaOpened => _media.IsValueCreated;

    // Guarded by MeetingRooms' lock.
    public Dictionary<Guid, Session> Sessions { get; } = [];

    public Dictionary<Guid, Session> Promoted { get; } = [];

    /// <summary>Replica attendees on other nodes promoted into this primary, by attendee id → the node they are on.</summary>
    public Dictionary<Guid, string> RemotePromoted { get; } = [];

    public Dictionary<string, MediaStreamInfo> Streams { get; } = [];

    public int OpenPeers { get; set; }

    public bool Ended { get; set; }

    public bool MediaDisposed { get; set; }

    public int Connections => Sessions.Count + Promoted.Count + RemotePromoted.Count;

    public void OnStreamPublished(MediaStreamInfo stream) => _rooms.OnStream(this, stream, added: true);

    public void OnStreamUnpublished(MediaStreamInfo stream) => _rooms.OnStream(this, stream, added: false);

    /// <summary>
    /// Queues a presence frame about <paramref name="attendeeId"/> for every session of the room but that attendee's own:
    /// nobody sees themselves, including a session just demoted from being that attendee (the relayed leave of its own
    /// promotion is swallowed once).
    /// </summary>
    public void BroadcastPresence(byte[] frame, Guid attendeeId, bool joined)
    {
        foreach (var session in Sessions.Values)
        {
            if (session.DemotedFrom == attendeeId)
            {
                session.DemotedFrom = null;
                if (!joined)
                {
                    continue;
                }
            }

            if (!session.IsSelf(attendeeId))
            {
                session.Send(frame);
            }
        }
    }

    /// <summary>Queues a frame for every session of the room except those the member/attendee is.</summary>
    public void Broadcast(byte[] frame, Guid exceptAttendeeId)
    {
        foreach (var session in Sessions.Values)
        {
            if (!session.IsSelf(exceptAttendeeId))
            {
                session.Send(frame);
            }
        }
    }
}

/// <summary>The attendees of a primary meeting: shown to the primary's sessions and to every replica's sessions.</summary>
internal sealed class PrimaryRoster
{
    public Dictionary<Guid, PresenceMember> Members { get; } = [];

    /// <summary>The local rooms that show this roster: the primary (when on this node) and its replicas on this node.</summary>
    public List<MeetingRoom> Rooms { get; } = [];
}
