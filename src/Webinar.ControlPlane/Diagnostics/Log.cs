namespace Webinar.ControlPlane.Diagnostics;

/// <summary>Every event id the control plane logs with, in one place; each feature owns a block of a hundred.</summary>
internal static class EventIds
{
    // 1000–1099: the database (migrations, retention)
    public const int MigrationApplied = 1001;
    public const int DatabaseCreated = 1002;
    public const int RetentionPruned = 1003;

    // 1100–1199: keys and secrets
    public const int ApiKeyGenerated = 1101;
    public const int EphemeralJoinTokenKey = 1102;
    public const int WebhookSecretGenerated = 1103;

    // 1200–1299: the HTTP API
    public const int UnhandledError = 1201;
    public const int OperationCompleted = 1202;
    public const int OperationRefused = 1203;

    // 1300–1399: the outbox
    public const int OutboxPublishFailed = 1301;
    public const int OutboxRowUnreadable = 1302;

    // 1400–1499: webhooks
    public const int WebhookPassFailed = 1401;
    public const int WebhookAttemptFailed = 1402;

    // 1500–1599: idle meetings
    public const int IdleMeetingDeleted = 1501;

    // 1600–1699: metrics
    public const int MetricsSampleFailed = 1601;

    // 1700–1799: archives
    public const int ArchiveNodeLost = 1701;
    public const int ArchiveReportFromOtherNode = 1702;
}

internal static partial class Log
{
    [LoggerMessage(EventIds.ArchiveReportFromOtherNode, LogLevel.Warning, "Ignored {Report} for archive {ArchiveId} from node {NodeId}: node {RecorderNodeId} records it")]
    public static partial void ArchiveReportFromOtherNode(this ILogger logger, string report, Guid archiveId, string? nodeId, string recorderNodeId);

    [LoggerMessage(EventIds.MigrationApplied, LogLevel.Information, "Applied database migration {Migration}")]
    public static partial void MigrationApplied(this ILogger logger, string migration);

    [LoggerMessage(EventIds.DatabaseCreated, LogLevel.Information, "Created database {Database}")]
    public static partial void DatabaseCreated(this ILogger logger, string database);

    [LoggerMessage(EventIds.ApiKeyGenerated, LogLevel.Warning, "No API key is configured (WEBINAR_API_KEY or ApiKeys:Keys); generated the development key {ApiKey}")]
    public static partial void ApiKeyGenerated(this ILogger logger, string apiKey);

    [LoggerMessage(EventIds.WebhookSecretGenerated, LogLevel.Warning, "No webhook secret is configured for platform {PlatformId} (WEBINAR_WEBHOOK_SECRET or Webhooks:SigningSecret); generated {Secret}")]
    public static partial void WebhookSecretGenerated(this ILogger logger, string platformId, string secret);

    [LoggerMessage(EventIds.EphemeralJoinTokenKey, LogLevel.Warning, "No join-token private key file is configured (WEBINAR_JOIN_TOKEN_PRIVATE_KEY_FILE); generated an ephemeral P-256 key. Nodes must fetch /.well-known/webinar/join-token-keys, and tokens stop verifying after a restart.")]
    public static partial void EphemeralJoinTokenKey(this ILogger logger);

    [LoggerMessage(EventIds.UnhandledError, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void UnhandledError(this ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventIds.OperationCompleted, LogLevel.Debug, "{Operation} completed in {ElapsedMs:F1} ms")]
    public static partial void OperationCompleted(this ILogger logger, string operation, double elapsedMs);

    [LoggerMessage(EventIds.OperationRefused, LogLevel.Information, "{Operation} refused: {Code} {Message}")]
    public static partial void OperationRefused(this ILogger logger, string operation, string code, string message);

    [LoggerMessage(EventIds.OutboxPublishFailed, LogLevel.Warning, "Publishing outbox messages failed; they stay queued and are retried")]
    public static partial void OutboxPublishFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventIds.OutboxRowUnreadable, LogLevel.Error, "Outbox row {Id} ({MessageType}) cannot be read back ({Error}); set aside as failed")]
    public static partial void OutboxRowUnreadable(this ILogger logger, long id, string messageType, string error);

    [LoggerMessage(EventIds.RetentionPruned, LogLevel.Information, "Pruned {Outbox} outbox rows, {Webhooks} webhook deliveries and {Ended} connection tombstones")]
    public static partial void RetentionPruned(this ILogger logger, int outbox, int webhooks, int ended);

    [LoggerMessage(EventIds.WebhookPassFailed, LogLevel.Warning, "A webhook delivery pass failed")]
    public static partial void WebhookPassFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventIds.WebhookAttemptFailed, LogLevel.Information, "Webhook delivery {Id} to {Url} failed (attempt {Attempt}): {Error}")]
    public static partial void WebhookAttemptFailed(this ILogger logger, long id, string url, int attempt, string error);

    [LoggerMessage(EventIds.IdleMeetingDeleted, LogLevel.Information, "Deleted idle meeting {MeetingId} with its replicas")]
    public static partial void IdleMeetingDeleted(this ILogger logger, Guid meetingId);

    [LoggerMessage(EventIds.MetricsSampleFailed, LogLevel.Warning, "Reading the metrics figures from the database failed; /metrics keeps the previous ones")]
    public static partial void MetricsSampleFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventIds.ArchiveNodeLost, LogLevel.Warning, "Archive {ArchiveId} failed: its node {NodeId} is gone")]
    public static partial void ArchiveNodeLost(this ILogger logger, Guid archiveId, string nodeId);
}
