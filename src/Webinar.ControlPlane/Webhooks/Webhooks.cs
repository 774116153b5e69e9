using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Webinar.ControlPlane.Webhooks;

/// <summary>The webhook event types a meeting's NotificationsConfiguration.WebhookUrl receives.</summary>
internal static class WebhookEventTypes
{
    public const string MeetingStarted = "MeetingStarted";
    public const string MeetingEnded = "MeetingEnded";
    public const string AttendeeJoined = "AttendeeJoined";
    public const string AttendeeLeft = "AttendeeLeft";
    public const string AttendeeDeleted = "AttendeeDeleted";
    public const string ArchiveStarted = "ArchiveStarted";
    public const string ArchiveStopped = "ArchiveStopped";
    public const string ArchiveAvailable = "ArchiveAvailable";
    public const string ArchiveFailed = "ArchiveFailed";
}

/// <summary>The JSON body POSTed to a webhook URL.</summary>
internal sealed record WebhookEvent(
    string EventType,
    DateTimeOffset EventTime,
    Guid MeetingId,
    string? ExternalMeetingId,
    Guid? AttendeeId = null,
    string? ExternalUserId = null,
    string? Reason = null,
    Guid? ArchiveId = null,
    double? Duration = null,
    long? Size = null);

/// <summary>Queues webhook deliveries inside the caller's transaction (the webhook outbox).</summary>
internal static class WebhookWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Queues <paramref name="e"/> for <paramref name="meeting"/>'s webhook URL, if it has one, signed later with its platform's secret.</summary>
    public static Task AddAsync(DbConnection connection, DbTransaction tx, Meetings.MeetingRow meeting, WebhookEvent e, CancellationToken ct) =>
        AddAsync(connection, tx, meeting.PlatformId, meeting.WebhookUrl, e, ct);

    /// <summary>Queues <paramref name="e"/> for a webhook URL of <paramref name="platformId"/> (an archive keeps its meeting's after the meeting is gone).</summary>
    public static Task AddAsync(DbConnection connection, DbTransaction tx, string platformId, string? webhookUrl, WebhookEvent e, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(webhookUrl) || !Uri.TryCreate(webhookUrl, UriKind.Absolute, out var uri))
        {
            return Task.CompletedTask;
        }

        return connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_deliveries (platform_id, url, receiver, event_type, payload, created_at, next_attempt_at)
            VALUES (@platformId, @url, @receiver, @type, @payload::jsonb, @now, @now)
            """,
            new
            {
                platformId,
                url = webhookUrl,
                receiver = Receiver(uri),
                type = e.EventType,
                payload = JsonSerializer.Serialize(e, Json),
                now = e.EventTime,
            },
            tx,
            cancellationToken: ct));
    }

    /// <summary>What <see cref="Hosting.WebhookOptions.MaxConcurrentPerReceiver"/> counts by: scheme, host and port.</summary>
    public static string Receiver(Uri url) => url.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
}

/// <summary>
/// Signs webhook bodies: <c>X-Webinar-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))</c>
/// with the Unix timestamp in <c>X-Webinar-Timestamp</c>, so a receiver can reject replays. Every attempt of one
/// delivery carries the same <c>X-Webinar-Delivery</c> id and body, so a receiver can drop retried duplicates.
/// </summary>
internal static class WebhookSignature
{
    public const string SignatureHeader = "X-Webinar-Signature";
    public const string TimestampHeader = "X-Webinar-Timestamp";
    public const string EventTypeHeader = "X-Webinar-Event";
    public const string DeliveryHeader = "X-Webinar-Delivery";

    public static string Sign(string secret, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + body));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }
}
