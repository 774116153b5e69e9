using Microsoft.Extensions.Logging;

namespace Webinar.Connector;

/// <summary>
/// The connector's log messages; their ids are in <see cref="EventIds"/> (3700–3799; 3600–3699 are the WebRTC
/// client's, Client/ClientLog.cs). Nothing here is per packet.
/// </summary>
internal static partial class ConnectorLog
{
    [LoggerMessage(EventIds.Joined, LogLevel.Information, "Connector joined meeting {MeetingId} as {AttendeeId} ({Role})")]
    public static partial void Joined(ILogger logger, string meetingId, string attendeeId, string role);

    [LoggerMessage(EventIds.Disconnected, LogLevel.Information, "Connector session ended: {Reason}")]
    public static partial void Disconnected(ILogger logger, string reason);

    [LoggerMessage(EventIds.RenegotiationFailed, LogLevel.Warning, "Connector renegotiation failed: {Reason}")]
    public static partial void RenegotiationFailed(ILogger logger, string reason);

    [LoggerMessage(EventIds.MediaFailed, LogLevel.Warning, "Connector media transport did not connect: {Reason}")]
    public static partial void MediaFailed(ILogger logger, string reason);

    [LoggerMessage(EventIds.SubscriberFailed, LogLevel.Warning, "Connector subscriber of {StreamId} failed: {Reason}")]
    public static partial void SubscriberFailed(ILogger logger, string streamId, string reason);
}
