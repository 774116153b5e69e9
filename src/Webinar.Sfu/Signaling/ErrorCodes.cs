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
