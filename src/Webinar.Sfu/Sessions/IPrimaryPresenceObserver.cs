using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Sessions;

/// <summary>
/// The cross-node presence seam. Every registered observer hears each change of a primary roster made on
/// this node (a primary attendee connected here joined or left, or a replica attendee here was promoted/demoted), so a
/// relay can forward it to the nodes hosting that primary's replicas. Presence arriving from another node enters
/// through <see cref="MeetingRooms.RelayPresence"/>. Called under the rooms lock: never block, never call back.
/// </summary>
internal interface IPrimaryPresenceObserver
{
    void OnPresence(Guid primaryMeetingId, PresenceMember member, bool joined);

    /// <summary>
    /// A promotion from another node into a primary here was admitted (<see cref="MeetingRooms.AdmitRemotePromotion"/>)
    /// or ended: only between the two may what <paramref name="fromNodeId"/> relays as <paramref name="attendeeId"/> reach
    /// anyone. Called under the rooms lock, in the order the rooms decided: never block, never call back.
    /// </summary>
    void OnRemotePromotion(Guid primaryMeetingId, Guid attendeeId, string fromNodeId, bool admitted)
    {
    }
}
