using Webinar.Contracts.JoinTokens;

namespace Webinar.Sfu.Hosting;

/// <summary>Every log message of the node, with its event id.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "SFU node {NodeId} in {Region} signalling at {SignalingUrl}")]
    public static partial void NodeStarting(ILogger logger, string nodeId, string region, string signalingUrl);

    [LoggerMessage(1001, LogLevel.Information, "Media candidates {Candidates}; relay at {RelayEndPoint}")]
    public static partial void MediaListening(ILogger logger, string candidates, string relayEndPoint);

    [LoggerMessage(1100, LogLevel.Information, "Connection {ConnectionId} joined meeting {MeetingId} as attendee {AttendeeId} ({Role})")]
    public static partial void Joined(ILogger logger, Guid connectionId, Guid meetingId, Guid attendeeId, string role);

    [LoggerMessage(1101, LogLevel.Information, "Connection {ConnectionId} refused: {Code}")]
    public static partial void JoinRefused(ILogger logger, Guid connectionId, string code);

    [LoggerMessage(1102, LogLevel.Information, "Connection {ConnectionId} of attendee {AttendeeId} ended: {Reason}")]
    public static partial void Left(ILogger logger, Guid connectionId, Guid attendeeId, string reason);

    [LoggerMessage(1103, LogLevel.Debug, "Connection {ConnectionId} sent a bad frame: {Message}")]
    public static partial void BadFrame(ILogger logger, Guid connectionId, string message);

    [LoggerMessage(1104, LogLevel.Warning, "Connection {ConnectionId} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, Guid connectionId);

    [LoggerMessage(1111, LogLevel.Information, "Connection {ConnectionId}: video {StreamId} paused ({Reason}); audio continues")]
    public static partial void VideoPaused(ILogger logger, Guid connectionId, string streamId, string reason);

    [LoggerMessage(1112, LogLevel.Information, "Connection {ConnectionId}: video {StreamId} resumed")]
    public static partial void VideoResumed(ILogger logger, Guid connectionId, string streamId);

    [LoggerMessage(1105, LogLevel.Information, "Connection {ConnectionId} promoted as primary attendee {AttendeeId} of {PrimaryMeetingId}")]
    public static partial void Promoted(ILogger logger, Guid connectionId, Guid attendeeId, Guid primaryMeetingId);

    [LoggerMessage(1106, LogLevel.Information, "Connection {ConnectionId} demoted: {Reason}")]
    public static partial void Demoted(ILogger logger, Guid connectionId, string reason);

    [LoggerMessage(1107, LogLevel.Warning, "Media call for connection {ConnectionId} failed")]
    public static partial void MediaFailed(ILogger logger, Exception exception, Guid connectionId);

    [LoggerMessage(1108, LogLevel.Debug, "Token refused: {Error}")]
    public static partial void TokenRefused(ILogger logger, JoinTokenError error);

    [LoggerMessage(1109, LogLevel.Information, "Join token keys reloaded from {Path}")]
    public static partial void JoinTokenKeysReloaded(ILogger logger, string path);

    [LoggerMessage(1110, LogLevel.Warning, "Join token keys in {Path} could not be reloaded ({Error}); the keys loaded before stay in use")]
    public static partial void JoinTokenKeysReloadFailed(ILogger logger, string path, string error);

    [LoggerMessage(1200, LogLevel.Information, "Meeting {MeetingId} placed on this node (primary {PrimaryMeetingId})")]
    public static partial void MeetingPlaced(ILogger logger, Guid meetingId, Guid? primaryMeetingId);

    [LoggerMessage(1201, LogLevel.Information, "Meeting {MeetingId} ended ({Reason}); {Sessions} sessions closed")]
    public static partial void MeetingEnded(ILogger logger, Guid meetingId, string reason, int sessions);

    [LoggerMessage(1202, LogLevel.Information, "Attendee {AttendeeId} of meeting {MeetingId} revoked")]
    public static partial void AttendeeRevoked(ILogger logger, Guid attendeeId, Guid meetingId);

    [LoggerMessage(1203, LogLevel.Warning, "Closing the media of meeting {MeetingId} failed")]
    public static partial void MeetingMediaCloseFailed(ILogger logger, Exception exception, Guid meetingId);

    [LoggerMessage(1300, LogLevel.Warning, "Publishing {MessageType} failed; dropped")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string messageType);

    [LoggerMessage(1301, LogLevel.Warning, "Node event queue full; {MessageType} dropped")]
    public static partial void PublishQueueFull(ILogger logger, string messageType);

    [LoggerMessage(1500, LogLevel.Information, "Relay link {LinkId} to node {NodeId} at {Peer} is open")]
    public static partial void RelayLinkOpened(ILogger logger, string nodeId, Guid linkId, string peer);

    [LoggerMessage(1501, LogLevel.Information, "Relay link {LinkId} to node {NodeId} closed: {Reason}")]
    public static partial void RelayLinkClosed(ILogger logger, string nodeId, Guid linkId, string reason);

    [LoggerMessage(1502, LogLevel.Warning, "Node {NodeId} did not answer a relay request (primary {PrimaryMeetingId}); retrying")]
    public static partial void RelayPeerUnreachable(ILogger logger, string nodeId, Guid primaryMeetingId);

    [LoggerMessage(1503, LogLevel.Warning, "Node {NodeId} refused to relay primary {PrimaryMeetingId}: {Reason}")]
    public static partial void RelaySubscriptionRefused(ILogger logger, string nodeId, Guid primaryMeetingId, string reason);

    [LoggerMessage(1504, LogLevel.Warning, "Subscribing to primary {PrimaryMeetingId} on node {NodeId} failed")]
    public static partial void RelaySubscribeFailed(ILogger logger, Exception exception, string nodeId, Guid primaryMeetingId);

    [LoggerMessage(1505, LogLevel.Warning, "Sending {Message} to node {NodeId} failed")]
    public static partial void RelaySendFailed(ILogger logger, Exception exception, string nodeId, string message);

    [LoggerMessage(1506, LogLevel.Error, "Relay reconcile pass failed")]
    public static partial void RelayReconcileFailed(ILogger logger, Exception exception);

    [LoggerMessage(1400, LogLevel.Information, "Placements restored from the control plane: {Meetings} meetings, {OnThisNode} on this node")]
    public static partial void PlacementsRestored(ILogger logger, int meetings, int onThisNode);

    [LoggerMessage(1401, LogLevel.Warning, "Asking the control plane for this node's meetings failed ({Error}); retrying in {Delay}")]
    public static partial void PlacementRestoreFailed(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(1402, LogLevel.Information, "Meeting {MeetingId} learnt from the control plane (exists: {Exists})")]
    public static partial void PlacementLearnt(ILogger logger, Guid meetingId, bool exists);

    [LoggerMessage(1403, LogLevel.Warning, "Asking the control plane where meeting {MeetingId} is placed failed: {Error}")]
    public static partial void PlacementQueryFailed(ILogger logger, Guid meetingId, string error);

    [LoggerMessage(1404, LogLevel.Debug, "Pruned {Tombstones} meeting tombstones and {Revocations} attendee revocations")]
    public static partial void DirectoryPruned(ILogger logger, int tombstones, int revocations);
}

/// <summary>Archive recording (event ids 1700–1799).</summary>
internal static partial class Log
{
    [LoggerMessage(1700, LogLevel.Information, "Archive {ArchiveId} of meeting {MeetingId} recording ({OutputMode})")]
    public static partial void ArchiveRecording(ILogger logger, Guid archiveId, Guid meetingId, string outputMode);

    [LoggerMessage(1701, LogLevel.Information, "Archive {ArchiveId} stopping ({Reason}); {Dropped} packets dropped by the recorder")]
    public static partial void ArchiveStopping(ILogger logger, Guid archiveId, string reason, long dropped);

    [LoggerMessage(1702, LogLevel.Information, "Archive {ArchiveId} available: {Duration} s, {Size} bytes")]
    public static partial void ArchiveAvailable(ILogger logger, Guid archiveId, double duration, long size);

    [LoggerMessage(1703, LogLevel.Warning, "Archive {ArchiveId} failed: {Reason}")]
    public static partial void ArchiveFailed(ILogger logger, Guid archiveId, string reason);

    [LoggerMessage(1704, LogLevel.Information, "Archive {ArchiveId} left recording by the previous run: finishing {Tracks} tracks as a partial archive")]
    public static partial void ArchiveRecovering(ILogger logger, Guid archiveId, int tracks);

    [LoggerMessage(1705, LogLevel.Warning, "Reporting {Message} failed, retrying: {Error}")]
    public static partial void ArchiveReportRetry(ILogger logger, string message, string error);
}
