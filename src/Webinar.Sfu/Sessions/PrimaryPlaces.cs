namespace Webinar.Sfu.Sessions;

/// <summary>How a connection asks for a place in a meeting.</summary>
internal enum PlaceRequest
{
    /// <summary>A <c>join</c> with the attendee's own token.</summary>
    Join,

    /// <summary>A replica attendee's <c>promote</c> with a primary attendee's token, on this node or from another.</summary>
    Promotion,
}

/// <summary>What <see cref="PrimaryPlaces.Decide"/> says; every refusal maps to one wire code.</summary>
internal enum PlaceDecision
{
    Admitted,

    /// <summary>A join of an attendee whose own session is live: the new session takes its place (the old one is <c>replaced</c>).</summary>
    Replaces,

    MeetingFull,

    /// <summary>The attendee already holds a place that cannot be replaced (a promotion, or a direct session when promoting).</summary>
    AlreadyConnected,
}

/// <summary>
/// The one admission rule of a meeting: who may take a place, and when it is full. Every path asks it:
/// a join (<see cref="MeetingRooms.Admit"/>), a promotion on this node (<see cref="MeetingRooms.ReservePromotion"/>) and a
/// promotion from another node (<see cref="MeetingRooms.AdmitRemotePromotion"/>). An attendee of a primary holds at most
/// one place: its own session, or a promotion here, or a promotion from another node. A join replaces the attendee's
/// own earlier session (a reconnect) but never a promotion; a promotion never displaces anything. Called under
/// <see cref="MeetingRooms"/>' lock.
/// </summary>
internal static class PrimaryPlaces
{
    public static PlaceDecision Decide(MeetingRoom room, Guid attendeeId, PlaceRequest request)
    {
        if (room.Promoted.ContainsKey(attendeeId) || room.RemotePromoted.ContainsKey(attendeeId))
        {
            return PlaceDecision.AlreadyConnected;
        }

        if (room.Sessions.ContainsKey(attendeeId))
        {
            return request == PlaceRequest.Join ? PlaceDecision.Replaces : PlaceDecision.AlreadyConnected;
        }

        return room.Connections >= room.Capacity ? PlaceDecision.MeetingFull : PlaceDecision.Admitted;
    }
}
