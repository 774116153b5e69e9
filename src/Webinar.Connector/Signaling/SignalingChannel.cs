using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Webinar.Connector.Signaling;

/// <summary>A frame the node sent that is not the reply to one of our requests (renegotiate, presence, streams).</summary>
internal delegate void SignalingEventHandler(string type, JsonElement frame);

/// <summary>
/// The client side of our node's signalling (docs/signaling.md): one WebSocket, UTF-8 JSON text frames. Requests carry
/// an <c>id</c> and complete with the node's reply to that id (<c>joined</c>, <c>answer</c>, <c>promoted</c>,
/// <c>demoted</c>, or <c>error</c>, which faults the request); every other frame goes to <see cref="EventReceived"/> on
/// the receive loop's thread. Sends are serialised.
/// </summary>
internal sealed class SignalingChannel : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _receiveLoop = Task.CompletedTask;
    private int _nextId;

    private SignalingChannel()
    {
    }

    public SignalingEventHandler? EventReceived { get; set; }

    /// <summary>Raised once on the receive loop when the socket has closed (by the node, the network or us).</summary>
    public Action<string>? Closed { get; set; }

    private int _framesDropped;

    /// <summary>Frames from the node that were not JSON this client could read, or that a handler failed on (each dropped alone).</summary>
    public int FramesDropped => Volatile.Read(ref _framesDropped);

    /// <summary>Why the last frame was dropped (diagnostics).</summary>
    public string? LastDropReason { get; private set; }

    /// <summary>Why the node closed the socket, once it has (e.g. "4003 wrong-meeting-node").</summary>
    public string? CloseReason { get; private set; }

    public static async Task<SignalingChannel> ConnectAsync(Uri url, CancellationToken cancellationToken)
    {
        var signaling = new SignalingChannel();
        try
        {
            await signaling._socket.ConnectAsync(url, cancellationToken);
        }
        catch
        {
            await signaling.DisposeAsync();
            throw;
        }

        signaling._receiveLoop = Task.Run(signaling.ReceiveLoopAsync);
        return signaling;
    }

    /// <summary>Sends <c>{"type":type, "id":n, ...fields}</c> and waits for the node's reply to that id.</summary>
    public async Task<JsonElement> RequestAsync(string type, JsonObject? fields, TimeSpan timeout)
    {
        string id = "r" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var frame = fields ?? [];
        frame["type"] = type;
        frame["id"] = id;
        try
        {
            await SendAsync(frame);
            return await reply.Task.WaitAsync(timeout);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async Task SendAsync(JsonObject frame)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(frame.ToJsonString());
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends <c>leave</c> when still open, then closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await SendAsync(new JsonObject { ["type"] = "leave" });
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Already going away.
            }
        }

        await _stop.CancelAsync();
        try
        {
            await _receiveLoop;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Ended with the socket.
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65_536];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseReason = $"{(int?)result.CloseStatus} {result.CloseStatusDescription}".Trim();
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                try
                {
                    using var document = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length));
                    Dispatch(document.RootElement.Clone());
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    // A frame this client cannot read (or a handler could not use) loses that frame only, never the session.
                    Interlocked.Increment(ref _framesDropped);
                    LastDropReason = e.GetType().Name + ": " + e.Message;
                }
                finally
                {
                    message.SetLength(0);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            CloseReason ??= e.Message;
        }
        finally
        {
            Closed?.Invoke(CloseReason ?? "closed");
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new SignalingException("closed", "The signalling socket closed: " + CloseReason));
            }
        }
    }

    private void Dispatch(JsonElement frame)
    {
        string type = frame.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (frame.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
            && _pending.TryGetValue(idElement.GetString()!, out var pending))
        {
            if (type == "error")
            {
                pending.TrySetException(SignalingException.FromFrame(frame));
            }
            else
            {
                pending.TrySetResult(frame);
            }

            return;
        }

        EventReceived?.Invoke(type, frame);
    }
}

/// <summary>The node refused a request (its <c>error</c> frame's code and message), or the socket closed under it.</summary>
public sealed class SignalingException(string code, string message) : Exception(message)
{
    /// <summary>The node's error code (docs/signaling.md), e.g. <c>invalid-token</c>, or <c>closed</c>.</summary>
    public string Code { get; } = code;

    internal static SignalingException FromFrame(JsonElement frame) => new(
        frame.TryGetProperty("code", out var code) ? code.GetString() ?? "error" : "error",
        frame.TryGetProperty("message", out var message) ? message.GetString() ?? "" : frame.GetRawText());
}
