using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Webinar.TestSupport.Janus;

/// <summary>
/// One session of the Janus REST API (https://janus.conf.meetecho.com/docs/rest.html): attach plugin handles, send
/// plugin messages with or without a JSEP, and wait for asynchronous events, which a background loop collects by
/// long-polling <c>GET /janus/&lt;session&gt;?maxev=N</c> (the long poll also keeps the session alive).
/// </summary>
public sealed class JanusSession : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _sessionUri;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<JsonObject> _events = [];
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _poll;
    private int _transaction;

    private JanusSession(HttpClient http, Uri baseUri, long id)
    {
        _http = http;
        Id = id;
        _sessionUri = new Uri(baseUri + "/" + id.ToString(CultureInfo.InvariantCulture));
        _poll = Task.Run(PollAsync);
    }

    public long Id { get; }

    public static async Task<JanusSession> CreateAsync(HttpClient http, Uri baseUri, CancellationToken cancellationToken)
    {
        var response = await PostAsync(http, baseUri, new JsonObject { ["janus"] = "create", ["transaction"] = "create" }, cancellationToken);
        long id = response["data"]?["id"]?.GetValue<long>() ?? throw new InvalidOperationException($"Janus create failed: {response.ToJsonString()}");
        return new JanusSession(http, baseUri, id);
    }

    /// <summary>Attaches a plugin ("janus.plugin.echotest", "janus.plugin.videoroom") and returns the handle id.</summary>
    public async Task<long> AttachAsync(string plugin, CancellationToken cancellationToken = default)
    {
        var response = await PostAsync(_http, _sessionUri, new JsonObject { ["janus"] = "attach", ["plugin"] = plugin, ["transaction"] = NextTransaction() }, cancellationToken);
        return response["data"]?["id"]?.GetValue<long>() ?? throw new InvalidOperationException($"Janus attach failed: {response.ToJsonString()}");
    }

    /// <summary>
    /// Sends a plugin message; returns Janus's immediate reply: "success" with plugindata for synchronous requests,
    /// "ack" for asynchronous ones (their result arrives as an event with the same transaction).
    /// </summary>
    public async Task<(string Transaction, JsonObject Reply)> SendMessageAsync(long handle, JsonObject body, string? jsepType = null, string? sdp = null, CancellationToken cancellationToken = default)
    {
        string transaction = NextTransaction();
        var message = new JsonObject { ["janus"] = "message", ["transaction"] = transaction, ["body"] = body };
        if (jsepType is not null)
        {
            message["jsep"] = new JsonObject { ["type"] = jsepType, ["sdp"] = sdp };
        }

        var reply = await PostAsync(_http, HandleUri(handle), message, cancellationToken);
        string kind = reply["janus"]?.GetValue<string>() ?? "";
        if (kind is not ("ack" or "success"))
        {
            throw new InvalidOperationException($"Janus refused {body.ToJsonString()}: {reply.ToJsonString()}");
        }

        return (transaction, reply);
    }

    /// <summary>Sends a synchronous plugin request (e.g. videoroom "create") and returns plugindata.data.</summary>
    public async Task<JsonObject> RequestAsync(long handle, JsonObject body, CancellationToken cancellationToken = default)
    {
        var (_, reply) = await SendMessageAsync(handle, body, cancellationToken: cancellationToken);
        var data = reply["plugindata"]?["data"] as JsonObject ?? throw new InvalidOperationException($"Janus gave no plugin data: {reply.ToJsonString()}");
        if (data["error"] is not null)
        {
            throw new InvalidOperationException($"Janus plugin error: {data.ToJsonString()}");
        }

        return data;
    }

    /// <summary>Waits for (and consumes) the first event from <paramref name="handle"/> that <paramref name="match"/> accepts.</summary>
    public async Task<JsonObject> WaitForEventAsync(long handle, Func<JsonObject, bool> match, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (true)
        {
            Task arrived;
            lock (_events)
            {
                arrived = _arrived.Task;
                for (int i = 0; i < _events.Count; i++)
                {
                    var e = _events[i];
                    if (e["sender"]?.GetValue<long>() == handle && match(e))
                    {
                        _events.RemoveAt(i);
                        return e;
                    }
                }
            }

            try
            {
                await arrived.WaitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching Janus event from handle {handle} within {timeout.TotalSeconds:0} s.");
            }
        }
    }

    /// <summary>Waits for the event carrying a JSEP of <paramref name="type"/> ("offer" or "answer"); returns it and its SDP.</summary>
    public async Task<(JsonObject Event, string Sdp)> WaitForJsepAsync(long handle, string type, TimeSpan timeout)
    {
        var e = await WaitForEventAsync(handle, e => e["jsep"]?["type"]?.GetValue<string>() == type, timeout);
        return (e, e["jsep"]!["sdp"]!.GetValue<string>());
    }

    /// <summary>Tells Janus that no more candidates will come from our side (ours are all in the SDP).</summary>
    public async Task TrickleCompletedAsync(long handle, CancellationToken cancellationToken = default)
    {
        await PostAsync(_http, HandleUri(handle), new JsonObject
        {
            ["janus"] = "trickle",
            ["transaction"] = NextTransaction(),
            ["candidate"] = new JsonObject { ["completed"] = true },
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await PostAsync(_http, _sessionUri, new JsonObject { ["janus"] = "destroy", ["transaction"] = NextTransaction() }, timeout.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            // Janus may already be gone.
        }

        await _stop.CancelAsync();
        try
        {
            await _poll;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private Uri HandleUri(long handle) => new(_sessionUri + "/" + handle.ToString(CultureInfo.InvariantCulture));

    private string NextTransaction() => "t" + Interlocked.Increment(ref _transaction).ToString(CultureInfo.InvariantCulture);

    private async Task PollAsync()
    {
        var uri = new Uri(_sessionUri + "?maxev=20");
        while (!_stop.IsCancellationRequested)
        {
            JsonNode? node;
            try
            {
                node = await _http.GetFromJsonAsync<JsonNode>(uri, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                await Task.Delay(200, _stop.Token);
                continue;
            }

            int added = 0;
            TaskCompletionSource? arrived = null;
            lock (_events)
            {
                foreach (var e in node is JsonArray array ? array : new JsonArray(node?.DeepClone()))
                {
                    if (e is JsonObject obj && obj["janus"]?.GetValue<string>() is not (null or "keepalive" or "ack"))
                    {
                        _events.Add((JsonObject)obj.DeepClone());
                        added++;
                    }
                }

                if (added > 0)
                {
                    arrived = _arrived;
                    _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            arrived?.TrySetResult();
        }
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, Uri uri, JsonObject message, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(uri, message, cancellationToken);
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        if (reply is null || reply["janus"]?.GetValue<string>() == "error")
        {
            throw new InvalidOperationException($"Janus error for {message.ToJsonString()}: {reply?.ToJsonString()}");
        }

        return reply;
    }
}
