using Microsoft.Extensions.Options;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Sessions;

internal enum AdmitResult
{
    Admitted,
    MeetingFull,
    AlreadyConnected,
    MeetingGone,

    /// <summary>The node holds <see cref="SfuOptions.MaxConnections"/> already.</summary>
    NodeFull,
}

internal enum PromotionResult
{
    Reserved,

    /// <summary>The primary lives on another node: admission there is the relay's job.</summary>
    Remote,
    MeetingFull,
    AlreadyConnected,
    MeetingGone,
}

/// <summary>
/// Every meeting room on this node and every primary roster, behind one lock: admission (capacity, one connection per
/// attendee), presence, streams and promotions change together, and frames are queued (never sent) under the lock, so
/// each client sees a consistent order: its <c>joined</c> snapshot first, then every change after it. Joins and leaves
/// are rare next to packets; one lock keeps this simple and deadlock-free. Media is never called under the lock.
/// </summary>
internal sealed class MeetingRooms
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, MeetingRoom> _rooms = [];
    private readonly Dictionary<Guid, PrimaryRoster> _rosters = [];

    /// <summary>Sessions here promoted as a primary attendee (into a primary here or on another node), by that attendee.</summary>
    private readonly Dictionary<Guid, (Guid PrimaryMeetingId, Session Session)> _promotions = [];
    private readonly IMediaPlane _plane;
    private readonly MeetingDirectory _directory;
    private readonly IPrimaryPresenceObserver[] _observers;
    private readonly SfuOptions _options;
    private readonly ILogger<MeetingRooms> _logger;

    public MeetingRooms(
        IMediaPlane plane, MeetingDirectory directory, IEnumerable<IPrimaryPresenceObserver> observers, IOptions<SfuOptions> options, ILogger<MeetingRooms> logger)
    {
        _plane = plane;
        _directory = directory;
        _observers = [.. observers];
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Opens (or finds) the room of a meeting placed on this node and its media.</summary>
    public MeetingRoom? Open(PlacedMeeting placement)
    {
        MeetingRoom? room;
        lock (_gate)
        {
            room = OpenLocked(placement);
        }

        _ = room?.Media;
        return room;
    }

    /// <summary>Admits a session: refuses when full, replaces the attendee's previous session, queues <c>joined</c>.</summary>
    public AdmitResult Admit(Session session, PlacedMeeting placement, string? idJson, out MeetingRoom? room, out Session? replaced)
    {
        replaced = null;
        lock (_gate)
        {
            room = OpenLocked(placement);
            if (room is null)
            {
                return AdmitResult.MeetingGone;
            }

            var attendeeId = session.AttendeeId;
            switch (PrimaryPlaces.Decide(room, attendeeId, PlaceRequest.Join))
            {
                case PlaceDecision.Replaces:
                    replaced = room.Sessions[attendeeId];
                    break;
                case PlaceDecision.MeetingFull:
                    room = null;
                    return AdmitResult.MeetingFull;
                case PlaceDecision.AlreadyConnected:
                    room = null;
                    return AdmitResult.AlreadyConnected;
            }

            // A new connection (not one replacing its own earlier session) also needs room on the node.
            if (replaced is null && ConnectionsLocked() >= _options.MaxConnections)
            {
                room = null;
                return AdmitResult.NodeFull;
            }

            var roster = _rosters[placement.PresenceMeetingId];
            var attendees = new List<PresenceMember>(roster.Members.Count);
            foreach (var member in roster.Members.Values)
            {
                if (member.AttendeeId != attendeeId)
                {
                    attendees.Add(member);
                }
            }

            var streams = new List<MediaStreamInfo>(room.Streams.Count);
            foreach (var stream in room.Streams.Values)
            {
                if (stream.AttendeeId != attendeeId)
                {
                    streams.Add(stream);
                }
            }

            session.Send(ServerFrames.Joined(
                placement.MeetingId, attendeeId, session.ExternalUserId, placement.PrimaryMeetingId, session.CanPublish, attendees, streams, session.IceServers, idJson,
                session.SpareSlots));
            room.Sessions[attendeeId] = session;
            room.OpenPeers++;
            session.Room = room;

            if (!room.IsReplica)
            {
                var member = new PresenceMember(attendeeId, session.ExternalUserId, session.ConnectionId);
                var announce = !roster.Members.ContainsKey(attendeeId);
                roster.Members[attendeeId] = member;
                if (announce)
                {
                    AnnounceLocked(placement.MeetingId, roster, member, joined: true, notifyObservers: true);
                }
            }

            return AdmitResult.Admitted;
        }
    }

    /// <summary>Removes a session that ended; true when it was still the attendee's live session.</summary>
    public bool Leave(Session session)
    {
        lock (_gate)
        {
            ReleasePromotionLocked(session);
            var room = session.Room;
            if (room is null || !room.Sessions.TryGetValue(session.AttendeeId, out var current) || current != session)
            {
                return false;
            }

            room.Sessions.Remove(session.AttendeeId);
            if (!room.IsReplica && _rosters.TryGetValue(room.MeetingId, out var roster)
                && roster.Members.TryGetValue(session.AttendeeId, out var member) && member.ConnectionId == session.ConnectionId)
            {
                roster.Members.Remove(session.AttendeeId);
                AnnounceLocked(room.MeetingId, roster, member, joined: false, notifyObservers: true);
            }

            return true;
        }
    }

    /// <summary>A session's peer media was disposed; closes the meeting's media once the meeting ended and no peer is left.</summary>
    public void PeerClosed(MeetingRoom room)
    {
        lock (_gate)
        {
            room.OpenPeers--;
            if (!TakeMediaForDisposalLocked(room))
            {
                return;
            }
        }

        _ = DisposeMediaAsync(room);
    }

    /// <summary>Ends a deleted meeting: every session gets <c>meeting-ended</c> and is closed. Returns the number of sessions.</summary>
    public int End(Guid meetingId, string reason)
    {
        List<Session> sessions;
        MeetingRoom? room;
        lock (_gate)
        {
            if (!_rooms.Remove(meetingId, out room))
            {
                _rosters.Remove(meetingId);
                return 0;
            }

            room.Ended = true;
            sessions = [.. room.Sessions.Values];
            if (_rosters.TryGetValue(room.Placement.PresenceMeetingId, out var roster))
            {
                roster.Rooms.Remove(room);
                if (!room.IsReplica)
                {
                    _rosters.Remove(meetingId);
                }
            }

            foreach (var promoted in room.Promoted.Values)
            {
                sessions.Add(promoted);
            }

            if (!TakeMediaForDisposalLocked(room))
            {
                room = null;
            }
        }

        var frame = ServerFrames.MeetingEnded(reason);
        foreach (var session in sessions)
        {
            if (session.Room?.MeetingId == meetingId)
            {
                session.End(frame, CloseCodes.MeetingEnded, DisconnectReasons.MeetingEnded);
            }
            else
            {
                // A replica attendee promoted into this (deleted) primary: its own replica ends by the same event.
                session.RequestDemotion(DisconnectReasons.MeetingEnded);
            }
        }

        if (room is not null)
        {
            _ = DisposeMediaAsync(room);
        }

        return sessions.Count;
    }

    /// <summary>
    /// An attendee was deleted: its live session is disconnected and a promotion made with its token ends, wherever the
    /// primary is. On the primary's node a promotion from another node leaves the primary's presence at
    /// once; the replica's node, which gets the same event, demotes the session there.
    /// </summary>
    public void Revoke(Guid meetingId, Guid attendeeId)
    {
        Session? live = null;
        Session? promoted = null;
        lock (_gate)
        {
            if (_rooms.TryGetValue(meetingId, out var room))
            {
                room.Sessions.TryGetValue(attendeeId, out live);
                ReleaseRemotePromotionLocked(room, attendeeId);
            }

            if (_promotions.TryGetValue(attendeeId, out var promotion) && promotion.PrimaryMeetingId == meetingId)
            {
                promoted = promotion.Session;
            }
        }

        live?.End(ServerFrames.Disconnected(DisconnectReasons.AttendeeDeleted), CloseCodes.AttendeeDeleted, DisconnectReasons.AttendeeDeleted);
        promoted?.RequestDemotion(DisconnectReasons.AttendeeDeleted);
    }

    /// <summary>
    /// Reserves a place in the primary for a promoted replica session and shows it as the primary attendee
    /// <paramref name="member"/> to the primary's and replicas' sessions on this node.
    /// </summary>
    public PromotionResult ReservePromotion(Session session, Guid primaryMeetingId, PresenceMember member)
    {
        lock (_gate)
        {
            var placement = _directory.Find(primaryMeetingId);
            if (placement is null)
            {
                return PromotionResult.MeetingGone;
            }

            if (_promotions.ContainsKey(member.AttendeeId))
            {
                return PromotionResult.AlreadyConnected;
            }

            if (placement.NodeId != _options.EffectiveNodeId)
            {
                // The primary's node decides (AdmitRemotePromotion, by the same rule); the session holds the promotion here.
                session.PromotedAs = member;
                _promotions[member.AttendeeId] = (primaryMeetingId, session);
                return PromotionResult.Remote;
            }

            var primary = OpenLocked(placement);
            if (primary is null)
            {
                return PromotionResult.MeetingGone;
            }

            switch (PrimaryPlaces.Decide(primary, member.AttendeeId, PlaceRequest.Promotion))
            {
                case PlaceDecision.MeetingFull:
                    return PromotionResult.MeetingFull;
                case PlaceDecision.AlreadyConnected or PlaceDecision.Replaces:
                    return PromotionResult.AlreadyConnected;
            }

            primary.Promoted[member.AttendeeId] = session;
            _promotions[member.AttendeeId] = (primaryMeetingId, session);
            session.PromotedAs = member;
            session.PromotedInto = primary;
            var roster = _rosters[primaryMeetingId];
            roster.Members[member.AttendeeId] = member;
            AnnounceLocked(primaryMeetingId, roster, member, joined: true, notifyObservers: true);
            return PromotionResult.Reserved;
        }
    }

    /// <summary>Undoes <see cref="ReservePromotion"/>; no-op when the session is not promoted.</summary>
    public void ReleasePromotion(Session session)
    {
        lock (_gate)
        {
            ReleasePromotionLocked(session);
        }
    }

    /// <summary>
    /// Presence of a primary hosted on another node, relayed to this node: shown to the local replicas'
    /// sessions exactly like a local primary's presence.
    /// </summary>
    public void RelayPresence(Guid primaryMeetingId, PresenceMember member, bool joined)
    {
        lock (_gate)
        {
            if (!_rosters.TryGetValue(primaryMeetingId, out var roster))
            {
                return;
            }

            if (joined ? roster.Members.TryAdd(member.AttendeeId, member) : roster.Members.Remove(member.AttendeeId))
            {
                AnnounceLocked(primaryMeetingId, roster, member, joined, notifyObservers: false);
            }
        }
    }

    /// <summary>The primary's roster as this node shows it (for a relay subscription's snapshot).</summary>
    public IReadOnlyList<PresenceMember> RosterOf(Guid primaryMeetingId)
    {
        lock (_gate)
        {
            return _rosters.TryGetValue(primaryMeetingId, out var roster) ? [.. roster.Members.Values] : [];
        }
    }

    /// <summary>
    /// A replica attendee connected to <paramref name="fromNodeId"/> asks to speak in a primary hosted here: it is
    /// admitted against the primary's connection limit like a local promotion, joins the primary's roster (shown to
    /// the primary's sessions and relayed to every replica node), and stays counted until released.
    /// </summary>
    public PromotionResult AdmitRemotePromotion(Guid primaryMeetingId, PresenceMember member, string fromNodeId)
    {
        lock (_gate)
        {
            var placement = _directory.Find(primaryMeetingId);
            if (placement is null || placement.IsReplica || OpenLocked(placement) is not { } primary)
            {
                return PromotionResult.MeetingGone;
            }

            switch (PrimaryPlaces.Decide(primary, member.AttendeeId, PlaceRequest.Promotion))
            {
                case PlaceDecision.MeetingFull:
                    return PromotionResult.MeetingFull;
                case PlaceDecision.AlreadyConnected or PlaceDecision.Replaces:
                    return PromotionResult.AlreadyConnected;
            }

            primary.RemotePromoted[member.AttendeeId] = fromNodeId;
            foreach (var observer in _observers)
            {
                observer.OnRemotePromotion(primaryMeetingId, member.AttendeeId, fromNodeId, admitted: true);
            }

            var roster = _rosters[primaryMeetingId];
            roster.Members[member.AttendeeId] = member;
            AnnounceLocked(primaryMeetingId, roster, member, joined: true, notifyObservers: true);
            return PromotionResult.Reserved;
        }
    }

    /// <summary>A remote promotion ended (demoted or disconnected on its node): the place frees and presence shows it leaving.</summary>
    public void ReleaseRemotePromotion(Guid primaryMeetingId, Guid attendeeId)
    {
        lock (_gate)
        {
            if (_rooms.TryGetValue(primaryMeetingId, out var primary))
            {
                ReleaseRemotePromotionLocked(primary, attendeeId);
            }
        }
    }

    /// <summary>The link to <paramref name="nodeId"/> broke: every promotion from there ends.</summary>
    public void ReleaseRemotePromotionsFrom(string nodeId)
    {
        lock (_gate)
        {
            foreach (var room in _rooms.Values)
            {
                foreach (var (attendeeId, node) in room.RemotePromoted.ToArray())
                {
                    if (node == nodeId)
                    {
                        ReleaseRemotePromotionLocked(room, attendeeId);
                    }
                }
            }
        }
    }

    private void ReleaseRemotePromotionLocked(MeetingRoom primary, Guid attendeeId)
    {
        if (!primary.RemotePromoted.Remove(attendeeId, out var fromNodeId))
        {
            return;
        }

        foreach (var observer in _observers)
        {
            observer.OnRemotePromotion(primary.MeetingId, attendeeId, fromNodeId, admitted: false);
        }

        if (_rosters.TryGetValue(primary.MeetingId, out var roster) && roster.Members.Remove(attendeeId, out var member))
        {
            AnnounceLocked(primary.MeetingId, roster, member, joined: false, notifyObservers: true);
        }
    }

    private int ConnectionsLocked()
    {
        var total = 0;
        foreach (var room in _rooms.Values)
        {
            total += room.Connections;
        }

        return total;
    }

    /// <summary>
    /// Live connections per meeting and the id of every one (the ids its AttendeeJoined carried), taken together
    /// for the heartbeat: the control plane reconciles its records with this list.
    /// </summary>
    public (IReadOnlyList<MeetingConnections> Meetings, IReadOnlyList<Guid> ConnectionIds) ConnectionSnapshot()
    {
        lock (_gate)
        {
            var meetings = new List<MeetingConnections>(_rooms.Count);
            var ids = new List<Guid>();
            foreach (var room in _rooms.Values)
            {
                if (room.Sessions.Count > 0)
                {
                    meetings.Add(new MeetingConnections(room.MeetingId, room.Sessions.Count));
                    foreach (var session in room.Sessions.Values)
                    {
                        ids.Add(session.ConnectionId);
                    }
                }
            }

            return (meetings, ids);
        }
    }

    /// <summary>Every live session, e.g. to close them when the node stops.</summary>
    public IReadOnlyList<Session> AllSessions()
    {
        lock (_gate)
        {
            var result = new List<Session>();
            foreach (var room in _rooms.Values)
            {
                result.AddRange(room.Sessions.Values);
            }

            return result;
        }
    }

    internal void OnStream(MeetingRoom room, MediaStreamInfo stream, bool added)
    {
        lock (_gate)
        {
            if (room.Ended)
            {
                return;
            }

            if (added)
            {
                room.Streams[stream.StreamId] = stream;
            }
            else if (!room.Streams.Remove(stream.StreamId))
            {
                return;
            }

            room.Broadcast(added ? ServerFrames.StreamAdded(stream) : ServerFrames.StreamRemoved(stream), stream.AttendeeId);
        }
    }

    private MeetingRoom? OpenLocked(PlacedMeeting placement)
    {
        if (_rooms.TryGetValue(placement.MeetingId, out var room))
        {
            return room;
        }

        if (_directory.IsDeleted(placement.MeetingId) || placement.NodeId != _options.EffectiveNodeId)
        {
            return null;
        }

        var capacity = Math.Min(_options.MaxConnectionsPerMeeting, placement.MaxAttendees > 0 ? placement.MaxAttendees : int.MaxValue);
        room = new MeetingRoom(this, placement, capacity, _plane);
        _rooms[placement.MeetingId] = room;
        if (!_rosters.TryGetValue(placement.PresenceMeetingId, out var roster))
        {
            roster = new PrimaryRoster();
            _rosters[placement.PresenceMeetingId] = roster;
        }

        roster.Rooms.Add(room);
        return room;
    }

    /// <summary>
    /// Ends a session's promotion. The primary's presence shows it leaving while the session still is that attendee, so
    /// the session itself is never told about itself; for a primary on another node the leave comes
    /// back relayed later, and the session skips that one too (<see cref="Session.DemotedFrom"/>).
    /// </summary>
    private void ReleasePromotionLocked(Session session)
    {
        if (session.PromotedAs is not { } member)
        {
            return;
        }

        if (_promotions.TryGetValue(member.AttendeeId, out var promotion) && promotion.Session == session)
        {
            _promotions.Remove(member.AttendeeId);
        }

        var primary = session.PromotedInto;
        if (primary is null)
        {
            session.DemotedFrom = member.AttendeeId;
        }
        else if (primary.Promoted.TryGetValue(member.AttendeeId, out var holder) && holder == session)
        {
            primary.Promoted.Remove(member.AttendeeId);
            if (_rosters.TryGetValue(primary.MeetingId, out var roster) && roster.Members.Remove(member.AttendeeId))
            {
                AnnounceLocked(primary.MeetingId, roster, member, joined: false, notifyObservers: true);
            }
        }

        session.PromotedAs = null;
        session.PromotedInto = null;
    }

    private void AnnounceLocked(Guid primaryMeetingId, PrimaryRoster roster, PresenceMember member, bool joined, bool notifyObservers)
    {
        var frame = joined ? ServerFrames.AttendeeJoined(member) : ServerFrames.AttendeeLeft(member);
        foreach (var room in roster.Rooms)
        {
            room.BroadcastPresence(frame, member.AttendeeId, joined);
        }

        if (notifyObservers)
        {
            foreach (var observer in _observers)
            {
                observer.OnPresence(primaryMeetingId, member, joined);
            }
        }
    }

    private static bool TakeMediaForDisposalLocked(MeetingRoom room)
    {
        if (!room.Ended || room.OpenPeers > 0 || room.MediaDisposed)
        {
            return false;
        }

        room.MediaDisposed = true;
        return true;
    }

    private async Task DisposeMediaAsync(MeetingRoom room)
    {
        if (!room.MediaOpened)
        {
            return;
        }

        try
        {
            await room.Media.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.MeetingMediaCloseFailed(_logger, e, room.MeetingId);
        }
    }
}
