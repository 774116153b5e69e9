using System.Data.Common;
using Dapper;
using Webinar.Contracts.Archives;

namespace Webinar.ControlPlane.Archives;

/// <summary>A row of <c>archives</c>.</summary>
internal sealed class ArchiveRow
{
    public Guid ArchiveId { get; init; }

    public Guid MeetingId { get; init; }

    public string PlatformId { get; init; } = "";

    public string? ExternalMeetingId { get; init; }

    public string NodeId { get; init; } = "";

    public string Name { get; init; } = "";

    public string OutputMode { get; init; } = "";

    public bool HasAudio { get; init; }

    public bool HasVideo { get; init; }

    public string Resolution { get; init; } = "";

    public string Layout { get; init; } = "";

    public string Status { get; init; } = "";

    public string? Reason { get; init; }

    public string? WebhookUrl { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? StoppedAt { get; init; }

    public double? Duration { get; init; }

    public long? Size { get; init; }

    public string? FileName { get; init; }

    public string? ContentType { get; init; }

    public bool IsPartial { get; init; }

    public ArchiveStatus State => Enum.Parse<ArchiveStatus>(Status);

    public Archive ToArchive(string? url) => new(
        ArchiveId,
        MeetingId,
        Name,
        State,
        Enum.Parse<ArchiveOutputMode>(OutputMode),
        HasAudio,
        HasVideo,
        Resolution,
        Enum.Parse<ArchiveLayout>(Layout),
        Utc(CreatedAt),
        StoppedAt is { } stopped ? Utc(stopped) : null,
        Duration,
        Size,
        Reason,
        State == ArchiveStatus.Available ? IsPartial : null,
        State == ArchiveStatus.Available ? url : null);

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}

/// <summary>
/// Reads archives (deleted ones are gone for the API). What a platform asks for goes through the <c>Owned</c>
/// reads: another platform's archive is as absent as a deleted one.
/// </summary>
internal static class ArchiveStore
{
    private const string Columns =
        "archive_id, platform_id, meeting_id, external_meeting_id, node_id, name, output_mode, has_audio, has_video, resolution, layout, status, reason, " +
        "webhook_url, created_at, stopped_at, duration, size, file_name, content_type, is_partial";

    public static Task<ArchiveRow?> GetAsync(DbConnection connection, DbTransaction? tx, Guid archiveId, bool forUpdate, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<ArchiveRow?>(new CommandDefinition(
            $"SELECT {Columns} FROM archives WHERE archive_id = @archiveId AND deleted_at IS NULL{(forUpdate ? " FOR UPDATE" : "")}",
            new { archiveId },
            tx,
            cancellationToken: ct));

    public static async Task<ArchiveRow?> GetOwnedAsync(DbConnection connection, DbTransaction? tx, string platformId, Guid archiveId, bool forUpdate, CancellationToken ct) =>
        await GetAsync(connection, tx, archiveId, forUpdate, ct) is { } row && row.PlatformId == platformId ? row : null;

    public static async Task<List<ArchiveRow>> ListForMeetingAsync(DbConnection connection, string platformId, Guid meetingId, CancellationToken ct) =>
        (await connection.QueryAsync<ArchiveRow>(new CommandDefinition(
            $"SELECT {Columns} FROM archives WHERE meeting_id = @meetingId AND platform_id = @platformId AND deleted_at IS NULL ORDER BY created_at, archive_id",
            new { meetingId, platformId },
            cancellationToken: ct))).AsList();

    /// <summary>The meetings' archives still recording, locked.</summary>
    public static async Task<List<ArchiveRow>> StartedForMeetingsAsync(DbConnection connection, DbTransaction tx, Guid[] meetingIds, CancellationToken ct) =>
        (await connection.QueryAsync<ArchiveRow>(new CommandDefinition(
            $"SELECT {Columns} FROM archives WHERE meeting_id = ANY(@meetingIds) AND status = 'Started' AND deleted_at IS NULL FOR UPDATE",
            new { meetingIds },
            tx,
            cancellationToken: ct))).AsList();
}
