namespace Webinar.Sfu.Signaling;

/// <summary>The <c>code</c> of an <c>error</c> frame (docs/signaling.md lists them all).</summary>
internal static class ErrorCodes
{
    public const string BadRequest = "bad-request";
    public const string FrameTooLarge = "frame-too-large";
    public const string JoinTimeout = "join-timeout";
    public const string InvalidToken = "invalid-token";
    public const string TokenExpired = "token-expired";
    public const string TokenRevoked = "token-revoked";
    public const string WrongMeetingNode = "wrong-meeting-node";
    public const string MeetingFull = "meeting-full";
    public const string NodeFull = "node-full";
    public const string NotAllowed = "not-allowed";
    public const string NotJoined = "not-joined";
    public const string AlreadyJoined = "already-joined";
    public const string AlreadyConnected = "already-connected";
    public const string BadOffer = "bad-offer";
    public const string UnknownStream = "unknown-stream";
    public const string MediaUnavailable = "media-unavailable";
    public const string ArchiveInProgress = "archive-in-progress";
    public const string NoArchive = "no-archive";
    public const string ArchiveUnavailable = "archive-unavailable";
}

/// <summary>WebSocket close codes the node uses (docs/signaling.md).</summary>
internal static class CloseCodes
{
    public const int Normal = 1000;
    public const int BadRequest = 4000;
    public const int JoinTimeout = 4001;
    public const int InvalidToken = 4002;
    public const int WrongMeetingNode = 4003;
    public const int MeetingFull = 4004;
    public const int Replaced = 4005;
    public const int AttendeeDeleted = 4006;
    public const int MeetingEnded = 4007;
    public const int SlowClient = 4008;
    public const int TransportClosed = 4009;
    public const int NodeShutdown = 4010;
    public const int AlreadyConnected = 4011;
    public const int MediaConnectTimeout = 4012;
    public const int NodeFull = 4013;
}

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
