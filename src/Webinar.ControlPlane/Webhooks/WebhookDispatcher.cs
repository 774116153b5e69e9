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
/// attempt a minute ahead) so instances share the work; a 2xx answer marks a row delivered, anything else retries
/// with exponential backoff (1 s, 2 s, 4 s, ... capped) until <see cref="WebhookOptions.MaxAttempts"/>.
/// </summary>
internal sealed class WebhookDispatcher(
    NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    ApiKeyStore apiKeys,
    TimeProvider time,
    IOptions<WebhookOptions> options,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private sealed record Delivery(long Id, string Url, string EventType, string Payload, int Attempts);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var delivered = 0;
            try
            {
                delivered = await DeliverDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.WebhookPassFailed(e);
            }

            if (delivered == 0)
            {
                await Task.Delay(options.Value.PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<int> DeliverDueAsync(CancellationToken ct)
    {
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
                    ORDER BY next_attempt_at LIMIT 20
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, url, event_type, payload::text AS payload, attempts
                """,
                new { now, lease = now.AddMinutes(1) },
                cancellationToken: ct))).AsList();
        }

        foreach (var delivery in due)
        {
            await DeliverAsync(delivery, ct);
        }

        return due.Count;
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
