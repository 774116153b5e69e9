using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>A raw signalling client over ClientWebSocket, reading frames as <see cref="JsonElement"/>.</summary>
internal sealed class SignalingClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[256 * 1024];

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public WebSocketState State => _socket.State;

    public static async Task<SignalingClient> ConnectAsync(Uri url)
    {
        var client = new SignalingClient();
        await client._socket.ConnectAsync(url, CancellationToken.None);
        return client;
    }

    /// <summary>
    /// Connects over a TCP socket whose receive buffer is fixed at <paramref name="receiveBufferBytes"/> (no
    /// autotuning), so a client that stops reading holds back the node's frames soon, as a slow network would.
    /// </summary>
    public static async Task<SignalingClient> ConnectWithSmallReceiveBufferAsync(Uri url, int receiveBufferBytes)
    {
        var client = new SignalingClient();
        var handler = new System.Net.Http.SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
                {
                    ReceiveBufferSize = receiveBufferBytes,
                };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        await client._socket.ConnectAsync(url, new System.Net.Http.HttpMessageInvoker(handler), CancellationToken.None);
        return client;
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text));

    public Task SendBytesAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text) =>
        _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);

    /// <summary>The next frame, or null when the node closed the connection.</summary>
    public async Task<JsonElement?> ReceiveAsync(TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(_buffer.AsMemory(length), timeout.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        if (result.MessageType == WebSocketMessageType.Close)
        {
            if (_socket.State == WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }

            return null;
        }

        using var document = JsonDocument.Parse(_buffer.AsMemory(0, length));
        return document.RootElement.Clone();
    }

    /// <summary>Reads until a frame of <paramref name="type"/>; fails on close or timeout.</summary>
    public Task<JsonElement> ExpectAsync(string type, TimeSpan? wait = null) => ExpectAsync(type, _ => true, wait);

    /// <summary>Reads until a frame of <paramref name="type"/> that <paramref name="match"/> accepts; fails on close or timeout.</summary>
    public async Task<JsonElement> ExpectAsync(string type, Func<JsonElement, bool> match, TimeSpan? wait = null)
    {
        var seen = new List<string>();
        var deadline = DateTime.UtcNow + (wait ?? DefaultWait);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No '{type}' frame; saw: {string.Join(", ", seen)}");
            }

            JsonElement? frame;
            try
            {
                frame = await ReceiveAsync(left);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No '{type}' frame; saw: {string.Join(", ", seen)}");
            }

            if (frame is null)
            {
                throw new InvalidOperationException($"Closed ({CloseStatus}) before a '{type}' frame; saw: {string.Join(", ", seen)}");
            }

            if (frame.Value.GetProperty("type").GetString() == type && match(frame.Value))
            {
                return frame.Value;
            }

            seen.Add(frame.Value.GetRawText());
        }
    }

    /// <summary>Every frame up to and including the first of <paramref name="type"/>; fails on close or timeout.</summary>
    public async Task<List<JsonElement>> ReadThroughAsync(string type, TimeSpan? wait = null)
    {
        var frames = new List<JsonElement>();
        var deadline = DateTime.UtcNow + (wait ?? DefaultWait);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            JsonElement? frame;
            try
            {
                frame = left > TimeSpan.Zero ? await ReceiveAsync(left) : throw new OperationCanceledException();
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No '{type}' frame; saw: {string.Join(", ", frames.Select(f => f.GetRawText()))}");
            }

            if (frame is null)
            {
                throw new InvalidOperationException($"Closed ({CloseStatus}) before a '{type}' frame; saw: {string.Join(", ", frames.Select(f => f.GetRawText()))}");
            }

            frames.Add(frame.Value);
            if (frame.Value.GetProperty("type").GetString() == type)
            {
                return frames;
            }
        }
    }

    /// <summary>The frames that arrive within <paramref name="window"/> (stops at close; the socket is aborted after).</summary>
    public async Task<List<JsonElement>> CollectAsync(TimeSpan window)
    {
        var frames = new List<JsonElement>();
        var deadline = DateTime.UtcNow + window;
        while (DateTime.UtcNow < deadline && _socket.State == WebSocketState.Open)
        {
            try
            {
                var frame = await ReceiveAsync(deadline - DateTime.UtcNow);
                if (frame is null)
                {
                    break;
                }

                frames.Add(frame.Value);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return frames;
    }

    /// <summary>Reads until the node closes; returns the frames before the close.</summary>
    public async Task<List<JsonElement>> ReadUntilClosedAsync(TimeSpan? wait = null)
    {
        var frames = new List<JsonElement>();
        var deadline = DateTime.UtcNow + (wait ?? DefaultWait);
        while (true)
        {
            var frame = await ReceiveAsync(deadline - DateTime.UtcNow);
            if (frame is null)
            {
                return frames;
            }

            frames.Add(frame.Value);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Already gone.
        }

        _socket.Dispose();
    }
}
