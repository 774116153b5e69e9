using Webinar.Contracts.JoinTokens;

namespace Webinar.Sfu.Hosting;

/// <summary>Every event id the node logs with, in one place; each feature owns a block of a hundred.</summary>
internal static class EventIds
{
    // 1000–1099: The node starting
    public const int NodeStarting = 1000;
    public const int MediaListening = 1001;

    // 1100–1199: Connections and join tokens
    public const int Joined = 1100;
    public const int JoinRefused = 1101;
    public const int Left = 1102;
    public const int BadFrame = 1103;
    public const int ConnectionFailed = 1104;
    public const int Promoted = 1105;
    public const int Demoted = 1106;
    public const int MediaFailed = 1107;
    public const int TokenRefused = 1108;
    public const int JoinTokenKeysReloaded = 1109;
    public const int JoinTokenKeysReloadFailed = 1110;
    public const int VideoPaused = 1111;
    public const int VideoResumed = 1112;
    public const int PromotionRefused = 1113;

    // 1200–1299: Meetings on this node
    public const int MeetingPlaced = 1200;
    public const int MeetingEnded = 1201;
    public const int AttendeeRevoked = 1202;
    public const int MeetingMediaCloseFailed = 1203;

    // 1300–1399: Node events to the control plane
    public const int PublishFailed = 1300;
    public const int PublishQueueFull = 1301;

    // 1400–1499: Placements learnt from the control plane
    public const int PlacementsRestored = 1400;
    public const int PlacementRestoreFailed = 1401;
    public const int PlacementLearnt = 1402;
    public const int PlacementQueryFailed = 1403;
    public const int DirectoryPruned = 1404;

    // 1500–1599: The relay between nodes
    public const int RelayLinkOpened = 1500;
    public const int RelayLinkClosed = 1501;
    public const int RelayPeerUnreachable = 1502;
    public const int RelaySubscriptionRefused = 1503;
    public const int RelaySubscribeFailed = 1504;
    public const int RelaySendFailed = 1505;
    public const int RelayReconcileFailed = 1506;

    // 1700–1799: Archive recording
    public const int ArchiveRecording = 1700;
    public const int ArchiveStopping = 1701;
    public const int ArchiveAvailable = 1702;
    public const int ArchiveFailed = 1703;
    public const int ArchiveRecovering = 1704;
    public const int ArchiveReportRetry = 1705;
}

/// <summary>Every log message of the node; the ids are in <see cref="EventIds"/>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.NodeStarting, LogLevel.Information, "SFU node {NodeId} in {Region} signalling at {SignalingUrl}")]
    public static partial void NodeStarting(ILogger logger, string nodeId, string region, string signalingUrl);

    [LoggerMessage(EventIds.MediaListening, LogLevel.Information, "Media candidates {Candidates}; relay at {RelayEndPoint}")]
    public static partial void MediaListening(ILogger logger, string candidates, string relayEndPoint);

    [LoggerMessage(EventIds.Joined, LogLevel.Information, "Connection {ConnectionId} joined meeting {MeetingId} as attendee {AttendeeId} ({Role})")]
    public static partial void Joined(ILogger logger, Guid connectionId, Guid meetingId, Guid attendeeId, string role);

    [LoggerMessage(EventIds.JoinRefused, LogLevel.Information, "Connection {ConnectionId} refused: {Code}")]
    public static partial void JoinRefused(ILogger logger, Guid connectionId, string code);

    [LoggerMessage(EventIds.Left, LogLevel.Information, "Connection {ConnectionId} of attendee {AttendeeId} ended: {Reason}")]
    public static partial void Left(ILogger logger, Guid connectionId, Guid attendeeId, string reason);

    [LoggerMessage(EventIds.BadFrame, LogLevel.Debug, "Connection {ConnectionId} sent a bad frame: {Message}")]
    public static partial void BadFrame(ILogger logger, Guid connectionId, string message);

    [LoggerMessage(EventIds.ConnectionFailed, LogLevel.Warning, "Connection {ConnectionId} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, Guid connectionId);

    [LoggerMessage(EventIds.VideoPaused, LogLevel.Information, "Connection {ConnectionId}: video {StreamId} paused ({Reason}); audio continues")]
    public static partial void VideoPaused(ILogger logger, Guid connectionId, string streamId, string reason);

    [LoggerMessage(EventIds.VideoResumed, LogLevel.Information, "Connection {ConnectionId}: video {StreamId} resumed")]
    public static partial void VideoResumed(ILogger logger, Guid connectionId, string streamId);

    [LoggerMessage(EventIds.Promoted, LogLevel.Information, "Connection {ConnectionId} promoted as primary attendee {AttendeeId} of {PrimaryMeetingId}")]
    public static partial void Promoted(ILogger logger, Guid connectionId, Guid attendeeId, Guid primaryMeetingId);

    [LoggerMessage(EventIds.PromotionRefused, LogLevel.Information, "Connection {ConnectionId}: the primary's node refused the promotion as {AttendeeId} ({Refusal}); undone")]
    public static partial void PromotionRefused(ILogger logger, Guid connectionId, Guid attendeeId, string refusal);

    [LoggerMessage(EventIds.Demoted, LogLevel.Information, "Connection {ConnectionId} demoted: {Reason}")]
    public static partial void Demoted(ILogger logger, Guid connectionId, string reason);

    [LoggerMessage(EventIds.MediaFailed, LogLevel.Warning, "Media call for connection {ConnectionId} failed")]
    public static partial void MediaFailed(ILogger logger, Exception exception, Guid connectionId);

    [LoggerMessage(EventIds.TokenRefused, LogLevel.Debug, "Token refused: {Error}")]
    public static partial void TokenRefused(ILogger logger, JoinTokenError error);

    [LoggerMessage(EventIds.JoinTokenKeysReloaded, LogLevel.Information, "Join token keys reloaded from {Path}")]
    public static partial void JoinTokenKeysReloaded(ILogger logger, string path);

    [LoggerMessage(EventIds.JoinTokenKeysReloadFailed, LogLevel.Warning, "Join token keys in {Path} could not be reloaded ({Error}); the keys loaded before stay in use")]
    public static partial void JoinTokenKeysReloadFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventIds.MeetingPlaced, LogLevel.Information, "Meeting {MeetingId} placed on this node (primary {PrimaryMeetingId})")]
    public static partial void MeetingPlaced(ILogger logger, Guid meetingId, Guid? primaryMeetingId);

    [LoggerMessage(EventIds.MeetingEnded, LogLevel.Information, "Meeting {MeetingId} ended ({Reason}); {Sessions} sessions closed")]
    public static partial void MeetingEnded(ILogger logger, Guid meetingId, string reason, int sessions);

    [LoggerMessage(EventIds.AttendeeRevoked, LogLevel.Information, "Attendee {AttendeeId} of meeting {MeetingId} revoked")]
    public static partial void AttendeeRevoked(ILogger logger, Guid attendeeId, Guid meetingId);

    [LoggerMessage(EventIds.MeetingMediaCloseFailed, LogLevel.Warning, "Closing the media of meeting {MeetingId} failed")]
    public static partial void MeetingMediaCloseFailed(ILogger logger, Exception exception, Guid meetingId);

    [LoggerMessage(EventIds.PublishFailed, LogLevel.Warning, "Publishing {MessageType} failed; dropped")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string messageType);

    [LoggerMessage(EventIds.PublishQueueFull, LogLevel.Warning, "Node event queue full; {MessageType} dropped")]
    public static partial void PublishQueueFull(ILogger logger, string messageType);

    [LoggerMessage(EventIds.RelayLinkOpened, LogLevel.Information, "Relay link {LinkId} to node {NodeId} at {Peer} is open")]
    public static partial void RelayLinkOpened(ILogger logger, string nodeId, Guid linkId, string peer);

    [LoggerMessage(EventIds.RelayLinkClosed, LogLevel.Information, "Relay link {LinkId} to node {NodeId} closed: {Reason}")]
    public static partial void RelayLinkClosed(ILogger logger, string nodeId, Guid linkId, string reason);

    [LoggerMessage(EventIds.RelayPeerUnreachable, LogLevel.Warning, "Node {NodeId} did not answer a relay request (primary {PrimaryMeetingId}); retrying")]
    public static partial void RelayPeerUnreachable(ILogger logger, string nodeId, Guid primaryMeetingId);

    [LoggerMessage(EventIds.RelaySubscriptionRefused, LogLevel.Warning, "Node {NodeId} refused to relay primary {PrimaryMeetingId}: {Reason}")]
    public static partial void RelaySubscriptionRefused(ILogger logger, string nodeId, Guid primaryMeetingId, string reason);

    [LoggerMessage(EventIds.RelaySubscribeFailed, LogLevel.Warning, "Subscribing to primary {PrimaryMeetingId} on node {NodeId} failed")]
    public static partial void RelaySubscribeFailed(ILogger logger, Exception exception, string nodeId, Guid primaryMeetingId);

    [LoggerMessage(EventIds.RelaySendFailed, LogLevel.Warning, "Sending {Message} to node {NodeId} failed")]
    public static partial void RelaySendFailed(ILogger logger, Exception exception, string nodeId, string message);

    [LoggerMessage(EventIds.RelayReconcileFailed, LogLevel.Error, "Relay reconcile pass failed")]
    public static partial void RelayReconcileFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.PlacementsRestored, LogLevel.Information, "Placements restored from the control plane: {Meetings} meetings, {OnThisNode} on this node")]
    public static partial void PlacementsRestored(ILogger logger, int meetings, int onThisNode);

    [LoggerMessage(EventIds.PlacementRestoreFailed, LogLevel.Warning, "Asking the control plane for this node's meetings failed ({Error}); retrying in {Delay}")]
    public static partial void PlacementRestoreFailed(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(EventIds.PlacementLearnt, LogLevel.Information, "Meeting {MeetingId} learnt from the control plane (exists: {Exists})")]
    public static partial void PlacementLearnt(ILogger logger, Guid meetingId, bool exists);

    [LoggerMessage(EventIds.PlacementQueryFailed, LogLevel.Warning, "Asking the control plane where meeting {MeetingId} is placed failed: {Error}")]
    public static partial void PlacementQueryFailed(ILogger logger, Guid meetingId, string error);

    [LoggerMessage(EventIds.DirectoryPruned, LogLevel.Debug, "Pruned {Tombstones} meeting tombstones and {Revocations} attendee revocations")]
    public static partial void DirectoryPruned(ILogger logger, int tombstones, int revocations);
}

/// <summary>Archive recording (event ids 1700–1799).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.ArchiveRecording, LogLevel.Information, "Archive {ArchiveId} of meeting {MeetingId} recording ({OutputMode})")]
    public static partial void ArchiveRecording(ILogger logger, Guid archiveId, Guid meetingId, string outputMode);

    [LoggerMessage(EventIds.ArchiveStopping, LogLevel.Information, "Archive {ArchiveId} stopping ({Reason}); {Dropped} packets dropped by the recorder")]
    public static partial void ArchiveStopping(ILogger logger, Guid archiveId, string reason, long dropped);

    [LoggerMessage(EventIds.ArchiveAvailable, LogLevel.Information, "Archive {ArchiveId} available: {Duration} s, {Size} bytes")]
    public static partial void ArchiveAvailable(ILogger logger, Guid archiveId, double duration, long size);

    [LoggerMessage(EventIds.ArchiveFailed, LogLevel.Warning, "Archive {ArchiveId} failed: {Reason}")]
    public static partial void ArchiveFailed(ILogger logger, Guid archiveId, string reason);

    [LoggerMessage(EventIds.ArchiveRecovering, LogLevel.Information, "Archive {ArchiveId} left recording by the previous run: finishing {Tracks} tracks as a partial archive")]
    public static partial void ArchiveRecovering(ILogger logger, Guid archiveId, int tracks);

    [LoggerMessage(EventIds.ArchiveReportRetry, LogLevel.Warning, "Reporting {Message} failed, retrying: {Error}")]
    public static partial void ArchiveReportRetry(ILogger logger, string message, string error);
}
