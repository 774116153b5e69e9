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
}
