namespace Webinar.Contracts.Nodes;

/// <summary>Live connections of one meeting on one node, as reported in a heartbeat.</summary>
public sealed record MeetingConnections(Guid MeetingId, int Connections);

/// <summary>
/// Published by every SFU node every <see cref="NodeHeartbeatDefaults.Interval"/>. A node whose last heartbeat is
/// older than <see cref="NodeHeartbeatDefaults.MissedBeforeUnhealthy"/> intervals is unhealthy: no new meeting is placed
/// on it and the connections it reported no longer count as live.
/// </summary>
public sealed record NodeHeartbeat(
    string NodeId,
    string Region,
    string SignalingUrl,
    int Load,
    IReadOnlyList<MeetingConnections> Meetings,
    DateTimeOffset SentAt);

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
