using System.Net;
using System.Text.Json;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A platform's webhook endpoint for end-to-end runs: an <see cref="HttpListener"/> on 127.0.0.1 that keeps every
/// JSON body POSTed to it and answers 200. The control plane reaches it only when its Webhooks:AllowedNetworks
/// admits loopback (an on-premises setting).
/// </summary>
public sealed class WebhookSink : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<JsonElement> _received = [];
    private readonly Task _loop;

    public WebhookSink()
    {
        var port = WebinarSystemFixture.FreeTcpPort();
        Url = $"http://127.0.0.1:{port}/hooks/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public IReadOnlyList<JsonElement> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Waits for a webhook of <paramref name="eventType"/> about <paramref name="archiveId"/>.</summary>
    public async Task<JsonElement> WaitForArchiveEventAsync(string eventType, Guid archiveId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (var e in Received)
            {
                if (e.GetProperty("EventType").GetString() == eventType && e.TryGetProperty("ArchiveId", out var id) && id.GetGuid() == archiveId)
                {
                    return e;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException(
                    $"No {eventType} webhook for archive {archiveId} within {timeout.TotalSeconds:0} s; received: {string.Join(" | ", Received.Select(r => r.ToString()))}");
            }

            await Task.Delay(200);
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = await JsonDocument.ParseAsync(context.Request.InputStream);
                lock (_received)
                {
                    _received.Add(body.RootElement.Clone());
                }

                context.Response.StatusCode = 200;
            }
            catch (JsonException)
            {
                context.Response.StatusCode = 400;
            }

            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
