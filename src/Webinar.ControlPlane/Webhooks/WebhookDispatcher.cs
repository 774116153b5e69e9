using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Platforms;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Webhooks;

/// <summary>
/// Delivers queued webhooks. Each pass leases due rows (<c>FOR UPDATE SKIP LOCKED</c>, then pushes their next
/// attempt a minute ahead) so instances share the work, up to the free slots of
/// <see cref="WebhookOptions.MaxConcurrentDeliveries"/> and never more than
/// <see cref="WebhookOptions.MaxConcurrentPerReceiver"/> in flight to one receiver, and sends each on its own, so a
/// receiver that hangs until the request timeout holds only its own few slots. Each body is signed with its
/// platform's secret. A 2xx answer marks a row delivered; a target that resolves only to refused addresses
/// (<see cref="WebhookTargets"/>) fails at once; anything else (a redirect too: they are never followed) retries
/// with exponential backoff (1 s, 2 s, 4 s, ... capped) until <see cref="WebhookOptions.MaxAttempts"/>.
/// </summary>
internal sealed class WebhookDispatcher(
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    PlatformDirectory platforms,
    TimeProvider time,
    IOptions<WebhookOptions> options,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrentDeliveries));

    /// <summary>Deliveries started and maybe not finished; touched only by the dispatch loop.</summary>
    private readonly List<Task> _inFlight = [];

    /// <summary>Deliveries in flight per receiver; written by the loop and by finishing deliveries, under its own lock.</summary>
    private readonly Dictionary<string, int> _perReceiver = new(StringComparer.Ordinal);

    private sealed record Delivery(long Id, string PlatformId, string Url, string Receiver, string EventType, string Payload, int Attempts);

    public override void Dispose()
    {
        _slots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var started = 0;
                try
                {
                    await _slots.WaitAsync(stoppingToken);
                    _slots.Release();
                    _inFlight.RemoveAll(t => t.IsCompleted);
                    started = await StartDueAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    logger.WebhookPassFailed(e);
                }

                if (started == 0)
                {
                    await Task.Delay(options.Value.PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            await Task.WhenAll(_inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<int> StartDueAsync(CancellationToken ct)
    {
        var free = _slots.CurrentCount;
        if (free == 0)
        {
            return 0;
        }

        string[] busyReceivers;
        int[] busyCounts;
        lock (_perReceiver)
        {
            busyReceivers = [.. _perReceiver.Keys];
            busyCounts = [.. _perReceiver.Values];
        }

        var now = time.GetUtcNow();
        List<Delivery> due;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            // Each receiver's due rows are numbered after the ones this instance already has in flight to it; only
            // those within its per-receiver limit are candidates.
            due = (await connection.QueryAsync<Delivery>(new CommandDefinition(
                """
                WITH busy AS (SELECT * FROM unnest(@busyReceivers::text[], @busyCounts::int[]) AS b(receiver, n)),
                candidates AS (
                    SELECT d.id, coalesce(b.n, 0) + row_number() OVER (PARTITION BY d.receiver ORDER BY d.next_attempt_at, d.id) AS slot
                    FROM webhook_deliveries d LEFT JOIN busy b ON b.receiver = d.receiver
                    WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= @now)
                UPDATE webhook_deliveries SET next_attempt_at = @lease
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE id IN (SELECT id FROM candidates WHERE slot <= @perReceiver)
                      AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= @now
                    ORDER BY next_attempt_at, id LIMIT @free
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, platform_id, url, receiver, event_type, payload::text AS payload, attempts
                """,
                new { now, lease = now.AddMinutes(1), free, busyReceivers, busyCounts, perReceiver = options.Value.MaxConcurrentPerReceiver },
                cancellationToken: ct))).AsList();
        }

        foreach (var delivery in due)
        {
            // Only this loop takes slots, and it leased no more rows than were free.
            _slots.Wait(0, CancellationToken.None);
            lock (_perReceiver)
            {
                _perReceiver[delivery.Receiver] = _perReceiver.GetValueOrDefault(delivery.Receiver) + 1;
            }

            _inFlight.Add(DeliverInSlotAsync(delivery, ct));
        }

        return due.Count;
    }

    private async Task DeliverInSlotAsync(Delivery delivery, CancellationToken ct)
    {
        try
        {
            await Task.Yield();
            await DeliverAsync(delivery, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: the row stays leased and is retried once the lease runs out.
        }
        catch (Exception e)
        {
            logger.WebhookPassFailed(e);
        }
        finally
        {
            lock (_perReceiver)
            {
                if (_perReceiver[delivery.Receiver] <= 1)
                {
                    _perReceiver.Remove(delivery.Receiver);
                }
                else
                {
                    _perReceiver[delivery.Receiver]--;
                }
            }

            _slots.Release();
        }
    }

    private async Task DeliverAsync(Delivery delivery, CancellationToken ct)
    {
        var o = options.Value;
        string? error = null;
        var refused = false;
        try
        {
            var platform = platforms.Find(delivery.PlatformId)
                ?? throw new WebhookTargetRefusedException($"Platform {delivery.PlatformId} is no longer configured; its webhooks cannot be signed.");
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(WebhookSignature.EventTypeHeader, delivery.EventType);
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(platform.WebhookSecret, timestamp, delivery.Payload));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(o.RequestTimeout);
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {(int)response.StatusCode}";
            }
        }
        catch (Exception e) when (Refusal(e) is { } refusal)
        {
            error = refusal.Message;
            refused = true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidOperationException or UriFormatException && !ct.IsCancellationRequested)
        {
            error = e.Message;
        }

        var attempts = delivery.Attempts + 1;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (error is null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE webhook_deliveries SET delivered_at = @now, attempts = @attempts, last_error = NULL WHERE id = @id",
                new { now, attempts, id = delivery.Id }, cancellationToken: ct));
            return;
        }

        var giveUp = refused || attempts >= o.MaxAttempts;
        var backoff = TimeSpan.FromTicks(Math.Min(o.InitialBackoff.Ticks * (1L << Math.Min(attempts - 1, 30)), o.MaxBackoff.Ticks));
        logger.WebhookAttemptFailed(delivery.Id, delivery.Url, attempts, error);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_deliveries
            SET attempts = @attempts, last_error = @error, next_attempt_at = @next,
                failed_at = CASE WHEN @giveUp THEN @now ELSE NULL END
            WHERE id = @id
            """,
            new { attempts, error, next = now + backoff, giveUp, now, id = delivery.Id }, cancellationToken: ct));
    }

    private static WebhookTargetRefusedException? Refusal(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is WebhookTargetRefusedException refusal)
            {
                return refusal;
            }
        }

        return null;
    }
}
