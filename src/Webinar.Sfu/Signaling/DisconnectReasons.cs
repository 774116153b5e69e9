namespace Webinar.Sfu.Signaling;

/// <summary>The <c>reason</c> of a <c>disconnected</c> frame and of AttendeeLeft.</summary>
internal static class DisconnectReasons
{
    public const string Left = "left";
    public const string Closed = "closed";
    public const string Replaced = "replaced";
    public const string AttendeeDeleted = "attendee-deleted";
    public const string MeetingEnded = "meeting-ended";
    public const string SlowClient = "slow-client";
    public const string TransportClosed = "transport-closed";
    public const string NodeShutdown = "node-shutdown";
    public const string MediaConnectTimeout = "media-connect-timeout";
}
