using System.Data.Common;
using System.Text.Json;
using Dapper;

namespace Webinar.ControlPlane.Meetings;

/// <summary>A row of <c>meetings</c>.</summary>
internal sealed class MeetingRow
{
    public Guid MeetingId { get; init; }

    public string PlatformId { get; init; } = "";

    public Guid? PrimaryMeetingId { get; init; }

    public string? ExternalMeetingId { get; init; }

    public string MediaRegion { get; init; } = "";

    public string NodeId { get; init; } = "";

    public string SignalingUrl { get; init; } = "";

    public int MaxAttendees { get; init; }

    public int AttendeeCount { get; init; }

    public int ReplicaCount { get; init; }

    public string Tags { get; init; } = "[]";

    public byte[] RequestHash { get; init; } = [];

    public string? WebhookUrl { get; init; }

    public DateTime CreatedAt { get; init; }

    public string ArchiveMode { get; init; } = nameof(Archives.ArchiveMode.Manual);

    public bool IsReplica => PrimaryMeetingId is not null;

    public Meeting ToMeeting() => new(
        MeetingId,
        ExternalMeetingId,
        MediaRegion,
        PrimaryMeetingId,
        Enum.Parse<Archives.ArchiveMode>(ArchiveMode),
        new MediaPlacement(SignalingUrl),
        new MeetingFeatures(new AttendeeFeatures(MaxAttendees)),
        JsonSerializer.Deserialize<List<Tag>>(Tags) ?? [],
        new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)));
}

/// <summary>
/// Reads meetings; <c>forUpdate</c> takes the row lock that serialises attendee and replica changes. Everything a
/// platform asks for goes through <see cref="GetOwnedAsync"/>: another platform's meeting is as absent as a deleted one.
/// </summary>
internal static class MeetingStore
{
    private const string Columns =
        "meeting_id, platform_id, primary_meeting_id, external_meeting_id, media_region, node_id, signaling_url, max_attendees, " +
        "attendee_count, replica_count, tags::text AS tags, request_hash, webhook_url, created_at, archive_mode";

    public static Task<MeetingRow?> GetAsync(DbConnection connection, DbTransaction? tx, Guid meetingId, bool forUpdate, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<MeetingRow?>(new CommandDefinition(
            $"SELECT {Columns} FROM meetings WHERE meeting_id = @meetingId{(forUpdate ? " FOR UPDATE" : "")}",
            new { meetingId },
            tx,
            cancellationToken: ct));

    /// <summary>The meeting when it exists and belongs to <paramref name="platformId"/>, else null (a 404 for the caller).</summary>
    public static Task<MeetingRow?> GetOwnedAsync(DbConnection connection, DbTransaction? tx, string platformId, Guid meetingId, bool forUpdate, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<MeetingRow?>(new CommandDefinition(
            $"SELECT {Columns} FROM meetings WHERE meeting_id = @meetingId AND platform_id = @platformId{(forUpdate ? " FOR UPDATE" : "")}",
            new { meetingId, platformId },
            tx,
            cancellationToken: ct));

    public static Task<MeetingRow?> GetByClientRequestTokenAsync(DbConnection connection, DbTransaction? tx, string platformId, string token, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<MeetingRow?>(new CommandDefinition(
            $"SELECT {Columns} FROM meetings WHERE platform_id = @platformId AND client_request_token = @token",
            new { platformId, token },
            tx,
            cancellationToken: ct));

    public static async Task<List<MeetingRow>> GetReplicasAsync(DbConnection connection, DbTransaction? tx, Guid primaryMeetingId, bool forUpdate, CancellationToken ct) =>
        (await connection.QueryAsync<MeetingRow>(new CommandDefinition(
            $"SELECT {Columns} FROM meetings WHERE primary_meeting_id = @primaryMeetingId ORDER BY created_at, meeting_id{(forUpdate ? " FOR UPDATE" : "")}",
            new { primaryMeetingId },
            tx,
            cancellationToken: ct))).AsList();
}
