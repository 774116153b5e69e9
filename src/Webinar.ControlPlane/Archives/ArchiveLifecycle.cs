using System.Data.Common;
using Dapper;
using Npgsql;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Archives;

/// <summary>Archive settings the control plane accepts, and the defaults of a request that omits them.</summary>
internal static class ArchiveRules
{
    public static readonly IReadOnlyDictionary<string, (int Width, int Height)> Resolutions = new Dictionary<string, (int, int)>(StringComparer.Ordinal)
    {
        ["640x480"] = (640, 480),
        ["1280x720"] = (1280, 720),
        ["1920x1080"] = (1920, 1080),
    };

    public const string DefaultResolution = "1280x720";

    /// <summary>
    /// Whether a report about <paramref name="archive"/> comes from someone who may make it: the control plane itself
    /// (no node named) or the node recording it. The bus already holds a named node to its signature.
    /// </summary>
    public static bool IsReportedByRecorder(ArchiveRow archive, string? reportingNodeId) =>
        reportingNodeId is null || string.Equals(archive.NodeId, reportingNodeId, StringComparison.Ordinal);

    public static string? Validate(StartArchiveRequest? body)
    {
        if (body is null)
        {
            return null;
        }

        if (body.Name is { Length: > 256 })
        {
            return "Name must be at most 256 characters.";
        }

        if (body.Resolution is { } r && !Resolutions.ContainsKey(r))
        {
            return $"Resolution must be one of: {string.Join(", ", Resolutions.Keys)}.";
        }

        if (body.OutputMode is { } mode && !Enum.IsDefined(mode))
        {
            return "OutputMode must be Composed or Individual.";
        }

        if (body.Layout is { } layout && !Enum.IsDefined(layout))
        {
            return "Layout must be Grid or SpeakerFocus.";
        }

        if (body.HasAudio == false && body.HasVideo == false)
        {
            return "An archive needs HasAudio or HasVideo.";
        }

        return null;
    }

    public static ArchiveSettings Settings(StartArchiveRequest? body, TimeSpan maxDuration)
    {
        var resolution = body?.Resolution ?? DefaultResolution;
        var (width, height) = Resolutions[resolution];
        return new ArchiveSettings(
            body?.Name ?? "",
            body?.OutputMode ?? ArchiveOutputMode.Composed,
            body?.HasAudio ?? true,
            body?.HasVideo ?? true,
            width,
            height,
            body?.Layout ?? ArchiveLayout.Grid,
            maxDuration);
    }
}

/// <summary>
/// Every change of an archive's status, each inside the caller's transaction with its outbox event and webhook, so
/// the API, a moderator over signalling, automatic archiving, meeting deletion and the nodes' reports all move an
/// archive the same way and only forward.
/// </summary>
internal static class ArchiveLifecycle
{
    /// <summary>
    /// Starts an archive of <paramref name="meeting"/>, whose row the caller has locked. A replica is refused naming
    /// its primary; a meeting already recording is a conflict.
    /// </summary>
    public static async Task<ArchiveRow> StartAsync(DbConnection connection, DbTransaction tx, MeetingRow meeting, ArchiveSettings settings, DateTimeOffset now, CancellationToken ct)
    {
        if (meeting.PrimaryMeetingId is { } primary)
        {
            throw ApiException.BadRequest($"Meeting {meeting.MeetingId} is a replica; archives record its primary meeting {primary}.");
        }

        var archiveId = Guid.CreateVersion7(now);
        var resolution = $"{settings.Width}x{settings.Height}";
        await connection.ExecuteAsync(new CommandDefinition("SAVEPOINT archive_start", transaction: tx, cancellationToken: ct));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO archives (archive_id, platform_id, meeting_id, external_meeting_id, node_id, name, output_mode, has_audio, has_video,
                                      resolution, layout, status, webhook_url, created_at)
                VALUES (@archiveId, @platformId, @meetingId, @externalId, @nodeId, @name, @mode, @audio, @video, @resolution, @layout, 'Started', @webhook, @now)
                """,
                new
                {
                    archiveId,
                    platformId = meeting.PlatformId,
                    meetingId = meeting.MeetingId,
                    externalId = meeting.ExternalMeetingId,
                    nodeId = meeting.NodeId,
                    name = settings.Name,
                    mode = settings.OutputMode.ToString(),
                    audio = settings.HasAudio,
                    video = settings.HasVideo,
                    resolution,
                    layout = settings.Layout.ToString(),
                    webhook = meeting.WebhookUrl,
                    now,
                },
                tx,
                cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await connection.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT archive_start", transaction: tx, cancellationToken: CancellationToken.None));
            throw ApiException.Conflict($"Meeting {meeting.MeetingId} is already being archived; stop that archive first.");
        }

        await OutboxWriter.AddAsync(connection, tx, new ArchiveStarted(archiveId, meeting.MeetingId, meeting.NodeId, settings, now), now, ct);
        await WebhookWriter.AddAsync(connection, tx, meeting,
            new WebhookEvent(WebhookEventTypes.ArchiveStarted, now, meeting.MeetingId, meeting.ExternalMeetingId, ArchiveId: archiveId), ct);
        return (await ArchiveStore.GetAsync(connection, tx, archiveId, forUpdate: false, ct))!;
    }

    /// <summary>
    /// Stops a recording archive. <paramref name="tellNode"/> publishes ArchiveStopped for the node (false when the
    /// node reported the stop itself). Returns false when the archive was no longer recording.
    /// </summary>
    public static async Task<bool> StopAsync(DbConnection connection, DbTransaction tx, ArchiveRow archive, string reason, bool tellNode, DateTimeOffset now, CancellationToken ct)
    {
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE archives SET status = 'Stopped', reason = @reason, stopped_at = @now WHERE archive_id = @id AND status = 'Started'",
            new { id = archive.ArchiveId, reason, now },
            tx,
            cancellationToken: ct));
        if (changed == 0)
        {
            return false;
        }

        if (tellNode)
        {
            await OutboxWriter.AddAsync(connection, tx, new ArchiveStopped(archive.ArchiveId, archive.MeetingId, reason, now), now, ct);
        }

        await WebhookWriter.AddAsync(connection, tx, archive.PlatformId, archive.WebhookUrl,
            new WebhookEvent(WebhookEventTypes.ArchiveStopped, now, archive.MeetingId, archive.ExternalMeetingId, Reason: reason, ArchiveId: archive.ArchiveId), ct);
        return true;
    }

    /// <summary>Stops every recording archive of the meetings (the meeting is being deleted, or went idle).</summary>
    public static async Task StopForMeetingsAsync(DbConnection connection, DbTransaction tx, Guid[] meetingIds, string reason, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var archive in await ArchiveStore.StartedForMeetingsAsync(connection, tx, meetingIds, ct))
        {
            await StopAsync(connection, tx, archive, reason, tellNode: true, now, ct);
        }
    }

    /// <summary>
    /// The node stored the file. Started or Stopped → Available; anything else stays. Returns true when the file
    /// came for an archive already Failed (its node came back after <see cref="ArchiveSweepJob"/> gave it up, or it
    /// was deleted): nobody can fetch that file, so the caller removes it.
    /// </summary>
    public static async Task<bool> AvailableAsync(DbConnection connection, DbTransaction tx, ArchiveAvailable m, CancellationToken ct)
    {
        var archive = await ArchiveStore.GetAsync(connection, tx, m.ArchiveId, forUpdate: true, ct);
        if (archive is null || archive.State is ArchiveStatus.Failed)
        {
            return true;
        }

        if (archive.State is ArchiveStatus.Available)
        {
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE archives SET status = 'Available', available_at = @at, stopped_at = COALESCE(stopped_at, @at), duration = @duration,
                                size = @size, file_name = @file, content_type = @type, is_partial = @partial
            WHERE archive_id = @id
            """,
            new { id = m.ArchiveId, at = m.AvailableAt, duration = m.DurationSeconds, size = m.SizeBytes, file = m.FileName, type = m.ContentType, partial = m.Partial },
            tx,
            cancellationToken: ct));
        await WebhookWriter.AddAsync(connection, tx, archive.PlatformId, archive.WebhookUrl,
            new WebhookEvent(WebhookEventTypes.ArchiveAvailable, m.AvailableAt, archive.MeetingId, archive.ExternalMeetingId,
                ArchiveId: archive.ArchiveId, Duration: m.DurationSeconds, Size: m.SizeBytes), ct);
        return false;
    }

    /// <summary>
    /// The archive's node is gone for good (<see cref="ArchiveSweepJob"/>): Failed with the reason, and ArchiveFailed
    /// on the bus so every node clears the recording indicator of the meeting's attendees.
    /// </summary>
    public static async Task NodeLostAsync(DbConnection connection, DbTransaction tx, ArchiveRow archive, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var failed = new ArchiveFailed(archive.ArchiveId, archive.MeetingId, reason, now);
        await FailedAsync(connection, tx, failed, ct);
        await OutboxWriter.AddAsync(connection, tx, failed, now, ct);
    }

    /// <summary>The node could not produce the archive. Started or Stopped → Failed with the reason.</summary>
    public static async Task FailedAsync(DbConnection connection, DbTransaction tx, ArchiveFailed m, CancellationToken ct)
    {
        var archive = await ArchiveStore.GetAsync(connection, tx, m.ArchiveId, forUpdate: true, ct);
        if (archive is null || archive.State is ArchiveStatus.Available or ArchiveStatus.Failed)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE archives SET status = 'Failed', reason = @reason, stopped_at = COALESCE(stopped_at, @at) WHERE archive_id = @id",
            new { id = m.ArchiveId, reason = m.Reason, at = m.FailedAt },
            tx,
            cancellationToken: ct));
        await WebhookWriter.AddAsync(connection, tx, archive.PlatformId, archive.WebhookUrl,
            new WebhookEvent(WebhookEventTypes.ArchiveFailed, m.FailedAt, archive.MeetingId, archive.ExternalMeetingId, Reason: m.Reason, ArchiveId: archive.ArchiveId), ct);
    }
}

/// <summary>ArchiveMode Always: the group's first connection starts the primary's archive, its going idle stops it.</summary>
internal static class ArchiveAutomation
{
    /// <summary>A connection joined the group of <paramref name="primaryMeetingId"/>.</summary>
    public static async Task OnConnectedAsync(DbConnection connection, DbTransaction tx, Guid primaryMeetingId, TimeSpan maxDuration, DateTimeOffset now, CancellationToken ct)
    {
        var peek = await MeetingStore.GetAsync(connection, tx, primaryMeetingId, forUpdate: false, ct);
        if (peek?.ArchiveMode != nameof(ArchiveMode.Always))
        {
            return;
        }

        var primary = await MeetingStore.GetAsync(connection, tx, primaryMeetingId, forUpdate: true, ct);
        if (primary is null || (await ArchiveStore.StartedForMeetingsAsync(connection, tx, [primaryMeetingId], ct)).Count > 0)
        {
            return;
        }

        try
        {
            await ArchiveLifecycle.StartAsync(connection, tx, primary, ArchiveRules.Settings(null, maxDuration) with { Name = "auto" }, now, ct);
        }
        catch (ApiException)
        {
            // Another connection's consumer started it first.
        }
    }

    /// <summary>The group of <paramref name="primaryMeetingId"/> has nobody connected any more.</summary>
    public static async Task OnIdleAsync(DbConnection connection, DbTransaction tx, Guid primaryMeetingId, DateTimeOffset now, CancellationToken ct)
    {
        var primary = await MeetingStore.GetAsync(connection, tx, primaryMeetingId, forUpdate: false, ct);
        if (primary?.ArchiveMode == nameof(ArchiveMode.Always))
        {
            await ArchiveLifecycle.StopForMeetingsAsync(connection, tx, [primaryMeetingId], ArchiveStopReasons.MeetingIdle, now, ct);
        }
    }
}
