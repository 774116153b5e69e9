using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Webhooks;

/// <summary>
/// Delivers queued webhooks. Each pass leases due rows (<c>FOR UPDATE SKIP LOCKED</c>, then pushes their next
/// attempt a minute ahead) so instances share the work, up to the free slots of
/// <see cref="WebhookOptions.MaxConcurrentDeliveries"/>, and sends each on its own, so a receiver that hangs until
/// the request timeout never holds back other meetings' webhooks. A 2xx answer marks a row delivered, anything else
/// retries with exponential backoff (1 s, 2 s, 4 s, ... capped) until <see cref="WebhookOptions.MaxAttempts"/>.
/// </summary>
internal sealed class WebhookDispatcher(
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    ApiKeyStore apiKeys,
    TimeProvider time,
    IOptions<WebhookOptions> options,
    ControlPlaneMetrics metrics,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrentDeliveries));

    /// <summary>Deliveries started and maybe not finished; touched only by the dispatch loop.</summary>
    private readonly List<Task> _inFlight = [];

    private sealed record Delivery(long Id, string Url, string EventType, string Payload, int Attempts);

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

        var now = time.GetUtcNow();
        List<Delivery> due;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            due = (await connection.QueryAsync<Delivery>(new CommandDefinition(
                """
                UPDATE webhook_deliveries SET next_attempt_at = @lease
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= @now
                    ORDER BY next_attempt_at, id LIMIT @free
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, url, event_type, payload::text AS payload, attempts
                """,
                new { now, lease = now.AddMinutes(1), free },
                cancellationToken: ct))).AsList();
        }

        foreach (var delivery in due)
        {
            // Only this loop takes slots, and it leased no more rows than were free.
            _slots.Wait(0, CancellationToken.None);
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
            _slots.Release();
        }
    }

    private async Task DeliverAsync(Delivery delivery, CancellationToken ct)
    {
        var o = options.Value;
        string? error = null;
        try
        {
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(WebhookSignature.EventTypeHeader, delivery.EventType);
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(o.SigningSecret ?? apiKeys.PrimaryKey, timestamp, delivery.Payload));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(o.RequestTimeout);
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {(int)response.StatusCode}";
            }
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

        var giveUp = attempts >= o.MaxAttempts;
        metrics.WebhookAttemptFailed(giveUp);
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
}
