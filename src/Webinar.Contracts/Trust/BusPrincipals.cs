using Webinar.Contracts.Archives;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Contracts.Relay;

namespace Webinar.Contracts.Trust;

/// <summary>
/// Who may say what on the bus: the one table every verifying consumer applies after the signature checks out.
/// The control plane (principal <see cref="ControlPlane"/>) alone announces meetings, attendees and placements; a node
/// speaks only for itself (a message naming a node — <c>NodeId</c>, <c>FromNodeId</c> — must be signed by that
/// node); relay traffic that names no node must still come from some node. Archive reports name their node too: the
/// control plane alone starts archives, and a node reports only in its own name (which node records which archive is
/// the consumers' check).
/// </summary>
public static class BusPrincipals
{
    /// <summary>The principal id every control-plane instance signs as (they share one key).</summary>
    public const string ControlPlane = "control-plane";

    /// <summary>Null when <paramref name="sender"/> may send <paramref name="message"/>, else why not.</summary>
    public static string? Refusal(object message, string sender)
    {
        var isControlPlane = sender == ControlPlane;
        return message switch
        {
            MeetingCreated or ReplicaCreated or MeetingDeleted or AttendeeCreated or AttendeeDeleted
                or MeetingPlacement or NodeMeetings => isControlPlane ? null : "only the control plane announces meetings, attendees and placements",
            ArchiveStarted or ArchiveCommandResult => isControlPlane ? null : "only the control plane starts archives and answers archive commands",
            ArchiveStopped m => isControlPlane && m.NodeId is null ? null : Self(m.NodeId, sender),
            ArchiveAvailable m => Self(m.NodeId, sender),
            ArchiveFailed m => isControlPlane && m.NodeId is null ? null : Self(m.NodeId, sender),
            ArchiveCommand m => Self(m.NodeId, sender),
            NodeHeartbeat m => Self(m.NodeId, sender),
            AttendeeJoined m => Self(m.NodeId, sender),
            AttendeeLeft m => Self(m.NodeId, sender),
            GetNodeMeetings m => Self(m.NodeId, sender),
            OpenRelayLink m => Self(m.FromNodeId, sender),
            RelayLinkOpened m => Self(m.NodeId, sender),
            SubscribePrimary m => Self(m.FromNodeId, sender),
            UnsubscribePrimary m => Self(m.FromNodeId, sender),
            RelayPromotedStream m => Self(m.FromNodeId, sender),
            AdmitPromotion m => Self(m.FromNodeId, sender),
            RelayPromotionEnded m => Self(m.FromNodeId, sender),
            _ => isControlPlane ? null : NodeOnly(sender),
        };
    }

    private static string? Self(string? claimed, string sender) =>
        claimed == sender ? null : $"a message naming node '{claimed}' must be signed by that node";

    private static string? NodeOnly(string sender) => sender.Length > 0 ? null : "unknown sender";
}
