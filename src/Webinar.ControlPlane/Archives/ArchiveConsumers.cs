using MassTransit;
using Npgsql;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Archives;

/// <summary>
/// What nodes report about archives: a stop of their own (maximum length, restart), the stored file, a failure.
/// The control plane's own ArchiveStopped and ArchiveFailed (<see cref="ArchiveSweepJob"/>) arrive here too and
/// change nothing (statuses only move forward).
/// </summary>
internal sealed class ArchiveReportsConsumer(NpgsqlDataSource dataSource, IArchiveStorage storage) :
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
        if (await ArchiveStore.GetAsync(connection, tx, m.ArchiveId, forUpdate: true, ct) is { } archive)
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
        await ArchiveLifecycle.FailedAsync(connection, tx, context.Message, ct);
        await tx.CommitAsync(ct);
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
