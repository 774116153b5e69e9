using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Webinar.ControlPlane.Tests.Webhooks;

/// <summary>One POST the receiver saw: its path, the headers a platform checks, the exact body and when it came.</summary>
internal sealed record ReceivedWebhook(string Path, string? EventType, string? Timestamp, string? Signature, string? DeliveryId, string Body, DateTime ReceivedAt);

/// <summary>
/// A platform's webhook endpoint: a real Kestrel server on 127.0.0.1 (free port) that records every request. Each
/// test uses its own path; a path answers 200 unless told to answer other status codes first or to hang.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly List<ReceivedWebhook> _received = [];
    private readonly Dictionary<string, Queue<int>> _statuses = [];
    private readonly Dictionary<string, TaskCompletionSource> _hangs = [];
    private readonly Dictionary<string, string> _redirects = [];
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUrl = address.TrimEnd('/');
        return receiver;
    }

    /// <summary>A fresh path on this receiver, so tests sharing it never see each other's POSTs.</summary>
    public string NewUrl() => $"{BaseUrl}/hooks/{Guid.NewGuid():N}";

    /// <summary>The path answers these status codes, in order, before answering 200.</summary>
    public void AnswerFirst(string url, params int[] statuses)
    {
        lock (_received)
        {
            _statuses[new Uri(url).AbsolutePath] = new Queue<int>(statuses);
        }
    }

    /// <summary>The path answers <c>302 Found</c> with <c>Location: <paramref name="target"/></c>.</summary>
    public void Redirect(string url, string target)
    {
        lock (_received)
        {
            _redirects[new Uri(url).AbsolutePath] = target;
        }
    }

    /// <summary>The path holds every request open until <see cref="Release"/>.</summary>
    public void Hang(string url)
    {
        lock (_received)
        {
            _hangs[new Uri(url).AbsolutePath] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release(string url)
    {
        lock (_received)
        {
            if (_hangs.Remove(new Uri(url).AbsolutePath, out var hang))
            {
                hang.TrySetResult();
            }
        }
    }

    public IReadOnlyList<ReceivedWebhook> For(string url)
    {
        var path = new Uri(url).AbsolutePath;
        lock (_received)
        {
            return _received.Where(r => r.Path == path).ToList();
        }
    }

    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string url, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            var found = For(url);
            if (found.Count >= count)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{url} received {For(url).Count} webhooks, expected {count}.");
    }

    public async ValueTask DisposeAsync()
    {
        lock (_received)
        {
            foreach (var hang in _hangs.Values)
            {
                hang.TrySetResult();
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var path = context.Request.Path.Value ?? "";
        var status = 200;
        Task hang = Task.CompletedTask;
        lock (_received)
        {
            _received.Add(new ReceivedWebhook(
                path,
                context.Request.Headers["X-Webinar-Event"].FirstOrDefault(),
                context.Request.Headers["X-Webinar-Timestamp"].FirstOrDefault(),
                context.Request.Headers["X-Webinar-Signature"].FirstOrDefault(),
                context.Request.Headers["X-Webinar-Delivery"].FirstOrDefault(),
                body,
                DateTime.UtcNow));
            if (_statuses.TryGetValue(path, out var queue) && queue.Count > 0)
            {
                status = queue.Dequeue();
            }

            if (_hangs.TryGetValue(path, out var tcs))
            {
                hang = tcs.Task;
            }

            if (_redirects.TryGetValue(path, out var location))
            {
                status = StatusCodes.Status302Found;
                context.Response.Headers.Location = location;
            }
        }

        await hang;
        context.Response.StatusCode = status;
    }
}
