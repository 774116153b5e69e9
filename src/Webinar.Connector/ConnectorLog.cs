using Microsoft.Extensions.Logging;

namespace Webinar.Connector;

/// <summary>
/// The connector's log messages; event ids 3700–3799 are reserved for it (3600–3699: the WebRTC client, see
/// Client/ClientLog.cs). Nothing here is per packet.
/// </summary>
internal static partial class ConnectorLog
{
    [LoggerMessage(EventId = 3700, Level = LogLevel.Information, Message = "Connector joined meeting {MeetingId} as {AttendeeId} ({Role})")]
    public static partial void Joined(ILogger logger, string meetingId, string attendeeId, string role);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Information, Message = "Connector session ended: {Reason}")]
    public static partial void Disconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Warning, Message = "Connector renegotiation failed: {Reason}")]
    public static partial void RenegotiationFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3703, Level = LogLevel.Warning, Message = "Connector media transport did not connect: {Reason}")]
    public static partial void MediaFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3704, Level = LogLevel.Warning, Message = "Connector subscriber of {StreamId} failed: {Reason}")]
    public static partial void SubscriberFailed(ILogger logger, string streamId, string reason);
}
