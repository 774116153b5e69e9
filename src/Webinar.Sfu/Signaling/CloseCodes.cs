namespace Webinar.Sfu.Signaling;

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
