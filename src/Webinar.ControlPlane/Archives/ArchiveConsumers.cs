using System.Data.Common;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Archives;

/// <summary>
/// What nodes report about archives: a stop of their own (maximum length, restart), the stored file, a failure.
/// The control plane's own ArchiveStopped and ArchiveFailed (<see cref="ArchiveSweepJob"/>) arrive here too and
/// change nothing (statuses only move forward). A node's report about an archive another node records is ignored
/// (<see cref="ArchiveRules.IsReportedByRecorder"/>), so one node cannot stop, fail or complete another's archive.
/// </summary>
internal sealed class ArchiveReportsConsumer(NpgsqlDataSource dataSource, IArchiveStorage storage, ILogger<ArchiveReportsConsumer> logger) :
    IConsumer<ArchiveStopped>,
    IConsumer<ArchiveAvailable>,
    IConsumer<ArchiveFailed>
{
    public async Task Consume(ConsumeContext<ArchiveStopped> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await ArchiveStore.GetAsync(connection, tx, m.ArchiveId, forUpdate: true, ct) is { } archive
            && IsFromRecorder(archive, m.NodeId, nameof(ArchiveStopped)))
        {
            await ArchiveLifecycle.StopAsync(connection, tx, archive, m.Reason, tellNode: false, m.StoppedAt, ct);
        }

        await tx.CommitAsync(ct);
    }

    public async Task Consume(ConsumeContext<ArchiveAvailable> context)
    {
        var ct = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (!await IsFromRecorderAsync(connection, tx, context.Message.ArchiveId, context.Message.NodeId, nameof(ArchiveAvailable), ct))
        {
            return;
        }

        var unwanted = await ArchiveLifecycle.AvailableAsync(connection, tx, context.Message, ct);
        await tx.CommitAsync(ct);
        if (unwanted)
        {
            await storage.DeleteAsync(context.Message.ArchiveId, ct);
        }
    }

    public async Task Consume(ConsumeContext<ArchiveFailed> context)
    {
        var ct = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (!await IsFromRecorderAsync(connection, tx, context.Message.ArchiveId, context.Message.NodeId, nameof(ArchiveFailed), ct))
        {
            return;
        }

        await ArchiveLifecycle.FailedAsync(connection, tx, context.Message, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>True unless the archive exists and a node other than its recorder sent the report.</summary>
    private async Task<bool> IsFromRecorderAsync(DbConnection connection, DbTransaction tx, Guid archiveId, string? nodeId, string report, CancellationToken ct) =>
        await ArchiveStore.GetAsync(connection, tx, archiveId, forUpdate: true, ct) is not { } archive || IsFromRecorder(archive, nodeId, report);

    private bool IsFromRecorder(ArchiveRow archive, string? nodeId, string report)
    {
        if (ArchiveRules.IsReportedByRecorder(archive, nodeId))
        {
            return true;
        }

        logger.ArchiveReportFromOtherNode(report, archive.ArchiveId, nodeId, archive.NodeId);
        return false;
    }
}

/// <summary>
/// A moderator's start-archive / stop-archive, relayed by the node (which checked the moderator right in the join
/// token). Answered with the outcome; the node tells the attendees once ArchiveStarted/ArchiveStopped comes back.
/// </summary>
internal sealed class ArchiveCommandConsumer(NpgsqlDataSource dataSource, OutboxSignal outbox, TimeProvider time, Microsoft.Extensions.Options.IOptions<ArchiveOptions> options)
    : IConsumer<ArchiveCommand>
{
    public async Task Consume(ConsumeContext<ArchiveCommand> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetAsync(connection, tx, m.MeetingId, forUpdate: true, ct);
        if (meeting is null)
        {
            await context.RespondAsync(new ArchiveCommandResult(false, null, "meeting-not-found", "The meeting no longer exists."));
            return;
        }

        // Only the node hosting the meeting relays its moderators' commands (it checked the moderator's join token).
        if (!string.Equals(meeting.NodeId, m.NodeId, StringComparison.Ordinal))
        {
            await context.RespondAsync(new ArchiveCommandResult(false, null, "wrong-meeting-node", "The meeting is not hosted by the node that sent the command."));
            return;
        }

        var started = await ArchiveStore.StartedForMeetingsAsync(connection, tx, [m.MeetingId], ct);
        ArchiveCommandResult result;
        if (m.Start)
        {
            if (started.Count > 0)
            {
                result = new ArchiveCommandResult(false, started[0].ArchiveId, "archive-in-progress", "The meeting is already being archived.");
            }
            else
            {
                var archive = await ArchiveLifecycle.StartAsync(connection, tx, meeting, ArchiveRules.Settings(null, options.Value.MaxDuration), now, ct);
                result = new ArchiveCommandResult(true, archive.ArchiveId, null, null);
            }
        }
        else if (started.Count == 0)
        {
            result = new ArchiveCommandResult(false, null, "no-archive", "The meeting is not being archived.");
        }
        else
        {
            await ArchiveLifecycle.StopAsync(connection, tx, started[0], ArchiveStopReasons.Moderator, tellNode: true, now, ct);
            result = new ArchiveCommandResult(true, started[0].ArchiveId, null, null);
        }

        await tx.CommitAsync(ct);
        outbox.Notify();
        await context.RespondAsync(result);
    }
}
