using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Webinar.Connector.Signaling;

namespace Webinar.Connector.Tests;

/// <summary>The connector's signalling client against a WebSocket server on loopback that plays the node.</summary>
public sealed class SignalingChannelTests : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Uri _url;

    public SignalingChannelTests()
    {
        var port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _url = new Uri($"ws://127.0.0.1:{port}/signal");
    }

    public ValueTask DisposeAsync()
    {
        _listener.Close();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_frame_that_is_not_json_is_dropped_and_counted_and_the_session_goes_on()
    {
        var node = AcceptAsync();
        await using var channel = await SignalingChannel.ConnectAsync(_url, CancellationToken.None);
        var events = new List<string>();
        var presence = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.EventReceived = (type, _) =>
        {
            events.Add(type);
            presence.TrySetResult();
        };
        using var socket = await node;

        await SendAsync(socket, "{ this is not json");
        await SendAsync(socket, """{"type":"presence","attendees":[]}""");
        await presence.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["presence"], events);
        Assert.Equal(1, channel.FramesDropped);
        Assert.Contains("invalid", channel.LastDropReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_the_node_refuses_fails_with_the_nodes_code_and_message()
    {
        var node = AcceptAsync();
        await using var channel = await SignalingChannel.ConnectAsync(_url, CancellationToken.None);
        using var socket = await node;

        var request = channel.RequestAsync("join", new JsonObject { ["token"] = "t" }, TimeSpan.FromSeconds(10));
        var join = await ReceiveAsync(socket);
        Assert.Equal("join", join.GetProperty("type").GetString());
        var id = join.GetProperty("id").GetString();
        await SendAsync(socket, $$"""{"type":"error","id":"{{id}}","code":"invalid-token","message":"The token's signature does not verify."}""");

        var refused = await Assert.ThrowsAsync<SignalingException>(() => request);
        Assert.Equal("invalid-token", refused.Code);
        Assert.Equal("The token's signature does not verify.", refused.Message);
    }

    [Fact]
    public async Task A_request_pending_when_the_node_closes_fails_with_closed_and_the_close_reason()
    {
        var node = AcceptAsync();
        await using var channel = await SignalingChannel.ConnectAsync(_url, CancellationToken.None);
        using var socket = await node;

        var request = channel.RequestAsync("promote", new JsonObject { ["token"] = "t" }, TimeSpan.FromSeconds(10));
        await ReceiveAsync(socket);
        await socket.CloseOutputAsync((WebSocketCloseStatus)4003, "wrong-meeting-node", CancellationToken.None);

        var closed = await Assert.ThrowsAsync<SignalingException>(() => request);
        Assert.Equal("closed", closed.Code);
        Assert.Equal("4003 wrong-meeting-node", channel.CloseReason);
    }

    private async Task<WebSocket> AcceptAsync()
    {
        var context = await _listener.GetContextAsync();
        var accepted = await context.AcceptWebSocketAsync(subProtocol: null);
        return accepted.WebSocket;
    }

    private static Task SendAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[8192];
        var result = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        using var document = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
        return document.RootElement.Clone();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
