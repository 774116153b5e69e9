using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

/// <summary>
/// The <c>reason</c> of a <c>demoted</c> frame (docs/signaling.md). A promotion into a primary on another node is
/// answered <c>promoted</c> before that node admits it; its refusal undoes the promotion with the reason here.
/// </summary>
internal static class DemotionReasons
{
    public const string Requested = "requested";
    public const string AttendeeDeleted = DisconnectReasons.AttendeeDeleted;
    public const string MeetingEnded = DisconnectReasons.MeetingEnded;

    /// <summary>The primary's node refused: the primary has its connection limit.</summary>
    public const string PrimaryFull = "primary-full";

    /// <summary>The primary's node refused: that primary attendee holds its place already (connected, or promoted elsewhere).</summary>
    public const string AlreadyConnected = "already-connected";

    /// <summary>The primary's node did not answer in time (<c>Sfu:Relay:RequestTimeout</c>) or no longer knew the link.</summary>
    public const string PrimaryUnavailable = "primary-unavailable";

    /// <summary>The reason a refused admission is undone with: one value per refusal.</summary>
    public static string Of(MediaRefusal refusal) => refusal switch
    {
        MediaRefusal.MeetingFull => PrimaryFull,
        MediaRefusal.AlreadyConnected => AlreadyConnected,
        MediaRefusal.AttendeeDeleted => AttendeeDeleted,
        MediaRefusal.MeetingGone => MeetingEnded,
        _ => PrimaryUnavailable,
    };
}
