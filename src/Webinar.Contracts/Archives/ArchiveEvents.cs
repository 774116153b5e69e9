namespace Webinar.Contracts.Archives;

// Archive lifecycle on the bus. The control plane publishes ArchiveStarted (through its outbox) to tell the primary's
// node to record, and ArchiveStopped to make it stop; a node publishes ArchiveStopped itself when it stops on its own
// (maximum length, restart), then ArchiveAvailable or ArchiveFailed once the file is stored or cannot be. Every
// consumer is idempotent: a status only moves forward (Started → Stopped → Available | Failed). A report names the node
// that sends it (NodeId; null from the control plane): BusPrincipals holds it to the signer, and each consumer acts on
// a node's report only for an archive that node records (ArchiveRules.IsReportedByRecorder, ArchiveControl).

/// <summary>One composed video of the whole meeting, or one file per track.</summary>
public enum ArchiveOutputMode
{
    Composed,
    Individual,
}

/// <summary>How a composed archive lays out the presenters' video.</summary>
public enum ArchiveLayout
{
    /// <summary>Equal cells, one per video track, in a fixed grid.</summary>
    Grid,

    /// <summary>The first presenter fills the frame; the others are thumbnails along the bottom.</summary>
    SpeakerFocus,
}

/// <summary>What to record, as the platform asked.</summary>
public sealed record ArchiveSettings(
    string Name,
    ArchiveOutputMode OutputMode,
    bool HasAudio,
    bool HasVideo,
    int Width,
    int Height,
    ArchiveLayout Layout,
    TimeSpan MaxDuration);

/// <summary>An archive of a primary meeting started; the node <paramref name="NodeId"/> hosting it records.</summary>
public sealed record ArchiveStarted(Guid ArchiveId, Guid MeetingId, string NodeId, ArchiveSettings Settings, DateTimeOffset StartedAt);

/// <summary>
/// The archive stopped recording (<see cref="ArchiveStopReasons"/>); published by the control plane (API, moderator,
/// meeting ended; <paramref name="NodeId"/> null) or by the recording node (maximum length, restart; its id).
/// </summary>
public sealed record ArchiveStopped(Guid ArchiveId, Guid MeetingId, string Reason, DateTimeOffset StoppedAt, string? NodeId = null);

/// <summary>
/// The recording node <paramref name="NodeId"/> stored the archive's file; <paramref name="Partial"/> when recording
/// was cut short (node restart).
/// </summary>
public sealed record ArchiveAvailable(
    Guid ArchiveId,
    Guid MeetingId,
    double DurationSeconds,
    long SizeBytes,
    string FileName,
    string ContentType,
    bool Partial,
    DateTimeOffset AvailableAt,
    string? NodeId = null);

/// <summary>
/// The archive could not be produced: <paramref name="Reason"/> says why (disk full, ffmpeg failed, ...). From the
/// recording node (<paramref name="NodeId"/>) or the control plane (null: the node never came back).
/// </summary>
public sealed record ArchiveFailed(Guid ArchiveId, Guid MeetingId, string Reason, DateTimeOffset FailedAt, string? NodeId = null);

/// <summary>
/// A moderator asked over signalling to start (<paramref name="Start"/>) or stop the archive of a primary meeting.
/// Sent by the node <paramref name="NodeId"/> hosting the meeting, with the request client; answered with
/// <see cref="ArchiveCommandResult"/>.
/// </summary>
public sealed record ArchiveCommand(Guid MeetingId, Guid AttendeeId, bool Start, string NodeId);

/// <summary>The control plane's answer: the archive started or stopped, or a refusal code (<c>archive-in-progress</c>, <c>no-archive</c>, <c>meeting-not-found</c>).</summary>
public sealed record ArchiveCommandResult(bool Succeeded, Guid? ArchiveId, string? Code, string? Message);

/// <summary>Why an archive stopped recording, as ArchiveStopped and the API's Reason carry it.</summary>
public static class ArchiveStopReasons
{
    public const string Api = "Api";
    public const string Moderator = "Moderator";
    public const string MeetingEnded = "MeetingEnded";
    public const string MeetingIdle = "MeetingIdle";
    public const string MaxDuration = "MaxDuration";
    public const string NodeRestart = "NodeRestart";
}
