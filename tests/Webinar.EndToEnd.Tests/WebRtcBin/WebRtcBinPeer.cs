using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Webinar.EndToEnd.Tests.Infrastructure;
using Webinar.TestSupport;

namespace Webinar.EndToEnd.Tests.WebRtcBin;

/// <summary>What a webrtcbin peer has decoded (receive mode), from its own counters.</summary>
public sealed record WebRtcBinStats(long VideoFrames, long AudioBuffers);

/// <summary>
/// A GStreamer webrtcbin peer (webrtcbin_peer.py under Debian's python3-gi) joined to a meeting: this class speaks the
/// node's signalling over a WebSocket and passes offers, answers and renegotiation between the node and the script.
/// The peer always offers; a <c>renegotiate</c> from the node makes it offer again.
/// </summary>
public sealed class WebRtcBinPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _log = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private volatile WebRtcBinStats _stats = new(0, 0);

    private WebRtcBinPeer(Process process) => _process = process;

    /// <summary>Frames the node sent (type, with reason or code where it has one), in order.</summary>
    public List<string> NodeFrames { get; } = [];

    public WebRtcBinStats Stats => _stats;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<WebRtcBinPeer> JoinAsync(string mode, string signalingUrl, string token)
    {
        var script = Path.Combine(RepositoryRoot.Path, "tests", "Webinar.EndToEnd.Tests", "WebRtcBin", "webrtcbin_peer.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, mode])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GST_DEBUG"] = "1";
        var peer = new WebRtcBinPeer(Process.Start(start) ?? throw new InvalidOperationException("python3 did not start"));
        peer._process.ErrorDataReceived += (_, e) => peer.Append("stderr: " + e.Data);
        peer._process.BeginErrorReadLine();
        await peer._socket.ConnectAsync(new Uri(signalingUrl), CancellationToken.None);
        await peer.SendAsync(new JsonObject { ["type"] = "join", ["token"] = token });
        peer._pumps.Add(Task.Run(peer.PumpScriptAsync));
        peer._pumps.Add(Task.Run(peer.PumpNodeAsync));
        return peer;
    }

    /// <summary>Waits until the peer's counters satisfy <paramref name="condition"/>; fails with the peer's log.</summary>
    public async Task<WebRtcBinStats> WaitForAsync(Func<WebRtcBinStats, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(_stats))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"webrtcbin: no {what} within {timeout} (now {_stats}).\n{Log}");
            }

            await Task.Delay(250);
        }

        return _stats;
    }

    private async Task PumpScriptAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            JsonNode? message;
            try
            {
                message = JsonNode.Parse(line);
            }
            catch (JsonException)
            {
                Append("stdout: " + line);
                continue;
            }

            switch ((string?)message?["type"])
            {
                case "offer":
                    Append("offer:\n" + (string?)message!["sdp"]);
                    await SendAsync(new JsonObject { ["type"] = "offer", ["sdp"] = (string?)message["sdp"] });
                    break;
                case "stats":
                    _stats = new WebRtcBinStats((long)message!["videoFrames"]!, (long)message["audioBuffers"]!);
                    break;
                default:
                    Append("script: " + line);
                    break;
            }
        }
    }

    private async Task PumpNodeAsync()
    {
        var buffer = new byte[512 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Record($"close {(int?)_socket.CloseStatus} {_socket.CloseStatusDescription}");
                    return;
                }

                var frame = JsonNode.Parse(buffer.AsSpan(0, length))!;
                var type = (string?)frame["type"];
                Record(type + (frame["reason"] is { } reason ? " " + reason : "") + (frame["code"] is { } code ? " " + code + ": " + frame["message"] : ""));
                switch (type)
                {
                    case "answer":
                        Append("answer:\n" + (string?)frame["sdp"]);
                        await _process.StandardInput.WriteLineAsync(new JsonObject { ["type"] = "answer", ["sdp"] = (string?)frame["sdp"] }.ToJsonString());
                        break;
                    case "renegotiate":
                        await _process.StandardInput.WriteLineAsync("""{"type":"offer"}""");
                        break;
                }

                await _process.StandardInput.FlushAsync();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            Record("ended: " + e.GetType().Name);
        }
    }

    private Task SendAsync(JsonObject frame) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, true, _stop.Token);

    private void Record(string frame)
    {
        lock (NodeFrames)
        {
            NodeFrames.Add(frame);
        }

        Append("node: " + frame);
    }

    private void Append(string line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("""{"type":"quit"}""");
                await _process.StandardInput.FlushAsync();
                if (!_process.WaitForExit(5000))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }
        catch (IOException)
        {
            // Already gone.
        }

        _stop.Cancel();
        _socket.Abort();
        try
        {
            await Task.WhenAll(_pumps).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Best effort.
        }

        _socket.Dispose();
        _process.Dispose();
        _stop.Dispose();
    }
}
