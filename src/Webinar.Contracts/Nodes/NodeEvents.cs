namespace Webinar.Contracts.Nodes;

/// <summary>Live connections of one meeting on one node, as reported in a heartbeat.</summary>
public sealed record MeetingConnections(Guid MeetingId, int Connections);

/// <summary>
/// Published by every SFU node every <see cref="NodeHeartbeatDefaults.Interval"/>. A node whose last heartbeat is
/// older than <see cref="NodeHeartbeatDefaults.MissedBeforeUnhealthy"/> intervals is unhealthy: no new meeting is placed
/// on it. Its reported connections stop counting only once it is known gone (silent while other nodes are heard).
/// <paramref name="ConnectionIds"/> is the node's own list of every live connection (the ids its AttendeeJoined
/// carried): the control plane drops a recorded connection the node no longer lists. Null from a node that does not
/// report it.
/// </summary>
public sealed record NodeHeartbeat(
    string NodeId,
    string Region,
    string SignalingUrl,
    int Load,
    IReadOnlyList<MeetingConnections> Meetings,
    DateTimeOffset SentAt,
    IReadOnlyList<Guid>? ConnectionIds = null);

public static class NodeHeartbeatDefaults
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public const int MissedBeforeUnhealthy = 3;
}

/// <summary>A client authenticated with a join token and connected to a meeting on a node.</summary>
public sealed record AttendeeJoined(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    string NodeId,
    Guid ConnectionId,
    DateTimeOffset JoinedAt);

/// <summary>A connection reported by <see cref="AttendeeJoined"/> ended (left, disconnected, kicked or meeting ended).</summary>
public sealed record AttendeeLeft(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    string NodeId,
    Guid ConnectionId,
    string Reason,
    DateTimeOffset LeftAt);
