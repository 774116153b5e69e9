using System.Text.Json;
using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Outbox;

/// <summary>
/// Publishes outbox rows with MassTransit and marks them sent. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>
/// inside a transaction that stays open while they are published, so two control-plane instances never publish
/// the same row; a row whose publish fails (broker down) stays unsent and goes out on a later pass. Woken by
/// <see cref="OutboxSignal"/> after each commit, and polls as a fallback. Delivery is at least once: a crash
/// between publish and commit publishes the row again. A row that cannot be read back (unknown type, a payload that
/// does not deserialise) is set aside with <c>failed_at</c> and its error, never blocking the rows after it.
/// </summary>
internal sealed class OutboxPublisher(
    NpgsqlDataSource dataSource,
    IBus bus,
    OutboxSignal signal,
    TimeProvider time,
    IOptions<OutboxOptions> options,
    ILogger<OutboxPublisher> logger) : BackgroundService
{
    private sealed record OutboxRow(long Id, string MessageType, string Payload);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            int published;
            try
            {
                published = await PublishBatchAsync(stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                logger.OutboxPublishFailed(e);
                published = 0;
                var backoff = TimeSpan.FromMilliseconds(Math.Min(250 * Math.Pow(2, failures), 5000));
                await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            if (published < options.Value.BatchSize)
            {
                try
                {
                    await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Publishes up to one batch; returns how many rows were published. Throws when the broker refuses.</summary>
    internal async Task<int> PublishBatchAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = (await connection.QueryAsync<OutboxRow>(new CommandDefinition(
            """
            SELECT id, message_type, payload::text AS payload
            FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL
            ORDER BY id LIMIT @limit
            FOR UPDATE SKIP LOCKED
            """,
            new { limit = options.Value.BatchSize },
            tx,
            cancellationToken: ct))).AsList();
        if (rows.Count == 0)
        {
            return 0;
        }

        var sent = new List<long>(rows.Count);
        var poisoned = new List<(long Id, string Error)>();
        Exception? failure = null;
        foreach (var row in rows)
        {
            if (!TryRead(row, out var message, out var type, out var error))
            {
                logger.OutboxRowUnreadable(row.Id, row.MessageType, error);
                poisoned.Add((row.Id, error));
                continue;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Value.PublishTimeout);
            try
            {
                await bus.Publish(message, type, timeout.Token);
                sent.Add(row.Id);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failure = e;
                break;
            }
        }

        if (sent.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE outbox SET sent_at = @now WHERE id = ANY(@ids)",
                new { now = time.GetUtcNow(), ids = sent.ToArray() },
                tx,
                cancellationToken: CancellationToken.None));
        }

        foreach (var (id, error) in poisoned)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE outbox SET failed_at = now(), last_error = @error WHERE id = @id",
                new { id, error },
                tx,
                cancellationToken: CancellationToken.None));
        }

        await tx.CommitAsync(CancellationToken.None);
        if (failure is not null)
        {
            throw new InvalidOperationException($"Published {sent.Count} of {rows.Count} outbox messages; the rest stay queued.", failure);
        }

        return sent.Count + poisoned.Count;
    }

    private static bool TryRead(OutboxRow row, out object message, out Type type, out string error)
    {
        message = null!;
        error = "";
        if (!OutboxMessageTypes.TryResolve(row.MessageType, out type))
        {
            error = $"unknown message type {row.MessageType}";
            return false;
        }

        try
        {
            message = JsonSerializer.Deserialize(row.Payload, type, OutboxMessageTypes.Json)!;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            error = e.Message;
            return false;
        }

        if (message is null)
        {
            error = "the payload is null";
            return false;
        }

        return true;
    }
}
