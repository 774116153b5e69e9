namespace Webinar.Contracts.Meetings;

/// <summary>What an attendee may do with one kind of media (Chime's <c>AttendeeCapabilities</c> values).</summary>
public enum MediaCapability
{
    SendReceive,
    Send,
    Receive,
    None,
}

/// <summary>An attendee's capabilities for audio, video and content share.</summary>
public sealed record AttendeeCapabilities(MediaCapability Audio, MediaCapability Video, MediaCapability Content)
{
    public static readonly AttendeeCapabilities SendReceiveAll = new(MediaCapability.SendReceive, MediaCapability.SendReceive, MediaCapability.SendReceive);
    public static readonly AttendeeCapabilities ReceiveAll = new(MediaCapability.Receive, MediaCapability.Receive, MediaCapability.Receive);

    public bool CanSendAny => CanSend(Audio) || CanSend(Video) || CanSend(Content);

    public static bool CanSend(MediaCapability c) => c is MediaCapability.SendReceive or MediaCapability.Send;

    public static bool CanReceive(MediaCapability c) => c is MediaCapability.SendReceive or MediaCapability.Receive;
}
