using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using MediatR;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Attendees;
using Webinar.ControlPlane.Hosting;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Outbox;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Meetings;

/// <summary>CreateMeeting, or CreateMeetingWithAttendees when <paramref name="WithAttendees"/>.</summary>
internal sealed record CreateMeeting(string PlatformId, CreateMeetingRequest Body, bool WithAttendees) : IRequest<CreateMeetingWithAttendeesResponse>;

internal sealed class CreateMeetingValidator(IOptions<MeetingOptions> options, WebhookTargets webhookTargets) : IValidator<CreateMeeting>
{
    public string? Validate(CreateMeeting request)
    {
        var b = request.Body;
        if (string.IsNullOrWhiteSpace(b.ClientRequestToken) || b.ClientRequestToken.Length is < 2 or > 64)
        {
            return "ClientRequestToken is required and must be 2 to 64 characters.";
        }

        if (StorableText.Problem(nameof(b.ClientRequestToken), b.ClientRequestToken) is { } badToken)
        {
            return badToken;
        }

        if (b.ExternalMeetingId is { Length: < 2 or > 64 })
        {
            return "ExternalMeetingId must be 2 to 64 characters.";
        }

        if (StorableText.Problem(nameof(b.ExternalMeetingId), b.ExternalMeetingId) is { } badExternalId)
        {
            return badExternalId;
        }

        if (string.IsNullOrWhiteSpace(b.MediaRegion))
        {
            return "MediaRegion is required.";
        }

        var regions = options.Value.RegionList();
        if (!regions.Contains(b.MediaRegion, StringComparer.Ordinal))
        {
            return $"MediaRegion must be one of: {string.Join(", ", regions)}.";
        }

        if (b.PrimaryMeetingId == Guid.Empty)
        {
            return "PrimaryMeetingId is not a meeting id.";
        }

        if (b.MeetingFeatures?.Attendee?.MaxCount is { } max && max is < 1 or > MeetingLimits.MaxAttendees)
        {
            return $"MeetingFeatures.Attendee.MaxCount must be 1 to {MeetingLimits.MaxAttendees}.";
        }

        if (b.Tags is { } tags)
        {
            if (tags.Count > 50)
            {
                return "At most 50 Tags are allowed.";
            }

            foreach (var tag in tags)
            {
                if (tag is null || string.IsNullOrEmpty(tag.Key) || tag.Key.Length > 128 || tag.Value is null || tag.Value.Length > 256)
                {
                    return "Each tag needs a Key (1 to 128 characters) and a Value (up to 256 characters).";
                }

                if ((StorableText.Problem("Tags[].Key", tag.Key) ?? StorableText.Problem("Tags[].Value", tag.Value)) is { } badTag)
                {
                    return badTag;
                }
            }
        }

        if (b.NotificationsConfiguration?.WebhookUrl is { } url)
        {
            if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return "NotificationsConfiguration.WebhookUrl must be an absolute http or https URL (up to 2048 characters).";
            }

            if ((StorableText.Problem("NotificationsConfiguration.WebhookUrl", url) ?? webhookTargets.Problem(uri)) is { } refused)
            {
                return refused;
            }
        }

        if (b.ArchiveMode is { } mode && (!Enum.IsDefined(mode) || (mode == Archives.ArchiveMode.Always && b.PrimaryMeetingId is not null)))
        {
            return "ArchiveMode must be Manual or Always, and only a primary meeting is archived.";
        }

        if (request.WithAttendees)
        {
            if (b.Attendees is not { Count: >= 1 and <= AttendeeRules.MaxBatch })
            {
                return $"Attendees must list 1 to {AttendeeRules.MaxBatch} attendees.";
            }
        }
        else if (b.Attendees is not null)
        {
            return "Attendees are only accepted with ?operation=create-attendees.";
        }

        return null;
    }
}

/// <summary>
/// Creates a primary or replica meeting, placed on the least-loaded healthy node of its region. Idempotent on
/// ClientRequestToken: the same token with the same body answers the meeting created first; with a different
/// body, 409. A replica locks its primary's row so the replica quota holds under concurrency.
/// </summary>
internal sealed class CreateMeetingHandler(
    NpgsqlDataSource dataSource,
    Placement placement,
    AttendeeWriter attendees,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<MeetingOptions> options) : IRequestHandler<CreateMeeting, CreateMeetingWithAttendeesResponse>
{
    private static readonly JsonSerializerOptions HashJson = new() { Converters = { new JsonStringEnumConverter() } };

    public async Task<CreateMeetingWithAttendeesResponse> Handle(CreateMeeting request, CancellationToken ct)
    {
        var body = request.Body;
        var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, HashJson));
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await MeetingStore.GetByClientRequestTokenAsync(connection, null, request.PlatformId, body.ClientRequestToken!, ct) is { } existing)
        {
            return await ReplayAsync(connection, existing, hash, ct);
        }

        var now = time.GetUtcNow();
        await using var tx = await connection.BeginTransactionAsync(ct);
        MeetingRow? primary = null;
        if (body.PrimaryMeetingId is { } primaryId)
        {
            primary = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, primaryId, forUpdate: true, ct)
                ?? throw ApiException.NotFound($"The primary meeting {primaryId} does not exist.");
            if (primary.IsReplica)
            {
                throw ApiException.BadRequest($"Meeting {primaryId} is itself a replica; a replica's PrimaryMeetingId must name a primary meeting.");
            }

            if (primary.ReplicaCount >= options.Value.ReplicasPerPrimary)
            {
                throw ApiException.LimitExceeded($"Meeting {primaryId} already has its maximum of {options.Value.ReplicasPerPrimary} replicas.");
            }
        }

        var node = await placement.FindAsync(connection, tx, body.MediaRegion!, ct)
            ?? throw ApiException.ServiceUnavailable($"No healthy media node is available in {body.MediaRegion}; retry shortly.");
        var meetingId = Guid.CreateVersion7(now);
        var maxAttendees = body.MeetingFeatures?.Attendee?.MaxCount ?? MeetingLimits.MaxAttendees;
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO meetings (meeting_id, platform_id, primary_meeting_id, external_meeting_id, media_region, node_id, signaling_url,
                                  max_attendees, tags, client_request_token, request_hash, webhook_url, created_at, idle_since, archive_mode)
            VALUES (@meetingId, @platformId, @primaryId, @externalId, @region, @nodeId, @url, @maxAttendees, @tags::jsonb, @token, @hash, @webhook, @now,
                    CASE WHEN @primaryId IS NULL THEN now() END, @archiveMode)
            ON CONFLICT (platform_id, client_request_token) DO NOTHING
            """,
            new
            {
                meetingId,
                platformId = request.PlatformId,
                primaryId = body.PrimaryMeetingId,
                externalId = body.ExternalMeetingId,
                region = body.MediaRegion,
                nodeId = node.NodeId,
                url = node.SignalingUrl,
                maxAttendees,
                tags = JsonSerializer.Serialize(body.Tags ?? []),
                token = body.ClientRequestToken,
                hash,
                webhook = body.NotificationsConfiguration?.WebhookUrl,
                now,
                archiveMode = (body.ArchiveMode ?? Archives.ArchiveMode.Manual).ToString(),
            },
            tx,
            cancellationToken: ct));
        if (inserted == 0)
        {
            // A concurrent call with the same token committed first.
            await tx.RollbackAsync(ct);
            var winner = await MeetingStore.GetByClientRequestTokenAsync(connection, null, request.PlatformId, body.ClientRequestToken!, ct)
                ?? throw ApiException.Conflict("A meeting with this ClientRequestToken is being created; retry.");
            return await ReplayAsync(connection, winner, hash, ct);
        }

        if (primary is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE meetings SET replica_count = replica_count + 1 WHERE meeting_id = @id", new { id = primary.MeetingId }, tx, cancellationToken: ct));
            await OutboxWriter.AddAsync(connection, tx, new ReplicaCreated(
                meetingId, primary.MeetingId, body.ExternalMeetingId, body.MediaRegion!, node.NodeId, primary.MediaRegion, primary.NodeId, maxAttendees, now), now, ct);
        }
        else
        {
            await OutboxWriter.AddAsync(connection, tx, new MeetingCreated(meetingId, body.ExternalMeetingId, body.MediaRegion!, node.NodeId, maxAttendees, now), now, ct);
        }

        var row = (await MeetingStore.GetAsync(connection, tx, meetingId, forUpdate: true, ct))!;
        List<Attendee> created = [];
        List<CreateAttendeeError> errors = [];
        if (request.WithAttendees)
        {
            (created, errors) = await attendees.CreateAsync(connection, tx, row, body.Attendees!, now, ct);
        }

        await tx.CommitAsync(ct);
        outbox.Notify();
        return new CreateMeetingWithAttendeesResponse(row.ToMeeting(), created, errors);
    }

    private static async Task<CreateMeetingWithAttendeesResponse> ReplayAsync(NpgsqlConnection connection, MeetingRow existing, byte[] hash, CancellationToken ct)
    {
        if (!existing.RequestHash.AsSpan().SequenceEqual(hash))
        {
            throw ApiException.Conflict("ClientRequestToken was already used with a different request body.");
        }

        var current = (await connection.QueryAsync<AttendeeRow>(new CommandDefinition(
            """
            SELECT attendee_id, meeting_id, external_user_id, audio, video, content, join_token, seq, role
            FROM attendees WHERE meeting_id = @id AND deleted_at IS NULL ORDER BY seq LIMIT 100
            """,
            new { id = existing.MeetingId },
            cancellationToken: ct))).Select(a => a.ToAttendee()).ToList();
        return new CreateMeetingWithAttendeesResponse(existing.ToMeeting(), current, []);
    }
}
