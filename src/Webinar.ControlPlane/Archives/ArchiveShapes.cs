using Webinar.Contracts.Archives;

namespace Webinar.ControlPlane.Archives;

/// <summary>Whether a primary meeting is archived on its own (CreateMeeting's <c>ArchiveMode</c>).</summary>
internal enum ArchiveMode
{
    /// <summary>Archives start only when asked (API or a moderator).</summary>
    Manual,

    /// <summary>An archive starts when the first attendee connects and stops when the meeting goes idle or ends.</summary>
    Always,
}

/// <summary>Where an archive is in its life: Started → Stopped → Available, or Failed.</summary>
internal enum ArchiveStatus
{
    Started,
    Stopped,
    Available,
    Failed,
}

/// <summary>StartArchive's body; every member may be omitted (defaults: Composed, audio and video, 1280x720, Grid).</summary>
internal sealed record StartArchiveRequest(
    string? Name,
    ArchiveOutputMode? OutputMode,
    bool? HasAudio,
    bool? HasVideo,
    string? Resolution,
    ArchiveLayout? Layout);

internal sealed record Archive(
    Guid ArchiveId,
    Guid MeetingId,
    string Name,
    ArchiveStatus Status,
    ArchiveOutputMode OutputMode,
    bool HasAudio,
    bool HasVideo,
    string Resolution,
    ArchiveLayout Layout,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StoppedAt,
    double? Duration,
    long? Size,
    string? Reason,
    bool? Partial,
    string? Url);

internal sealed record ArchiveResponse(Archive Archive);

internal sealed record ArchivesResponse(IReadOnlyList<Archive> Archives);
