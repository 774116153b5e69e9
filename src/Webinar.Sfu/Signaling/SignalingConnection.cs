using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

/// <summary>
/// The WebSocket side of one signalling connection: a read loop that turns text frames into <see cref="ClientFrame"/>s
/// for the <see cref="Session"/>, and a single writer draining the outbound queue (frames are queued from any thread,
/// sent in order). Nothing thrown by the socket or a handler escapes.
/// </summary>
internal sealed class SignalingConnection : ISessionOutput
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(3);

    private readonly WebSocket _socket;
    private readonly SessionServices _services;
    private readonly Channel<Outgoing> _outbound = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private int _queued;
    private long _queuedBytes;
    private int _closing;

    public SignalingConnection(WebSocket socket, SessionServices services)
    {
        _socket = socket;
        _services = services;
    }

    public void Send(byte[] frame) => Enqueue(new Outgoing(frame, null, 0, null), frame.Length);

    public void SendDeferred(Func<byte[]> render) => Enqueue(new Outgoing(null, render, 0, null), 0);

    /// <summary>A client that leaves more than MaxQueuedFrames frames or MaxQueuedBytes bytes unread is closed as slow.</summary>
    private void Enqueue(Outgoing item, int bytes)
    {
        if (Volatile.Read(ref _closing) == 1)
        {
            return;
        }

        if (Interlocked.Increment(ref _queued) > _services.Options.MaxQueuedFrames
            || Interlocked.Add(ref _queuedBytes, bytes) > _services.Options.MaxQueuedBytes)
        {
            Close(null, CloseCodes.SlowClient, DisconnectReasons.SlowClient);
            return;
        }

        _outbound.Writer.TryWrite(item);
    }

    public void Close(byte[]? finalFrame, int closeCode, string closeReason)
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        if (finalFrame is not null)
        {
            _outbound.Writer.TryWrite(new Outgoing(finalFrame, null, 0, null));
        }

        _outbound.Writer.TryWrite(new Outgoing(null, null, closeCode, closeReason));
        _outbound.Writer.TryComplete();

        // A client that never answers the close handshake is cut off.
        _stop.CancelAfter(CloseGrace);
    }

    public async Task RunAsync(CancellationToken stopping, CancellationToken connectionClosed)
    {
        var session = new Session(this, _services);
        using var stopRegistration = stopping.Register(static s => ((SignalingConnection)s!).Close(
            ServerFrames.Disconnected(DisconnectReasons.NodeShutdown), CloseCodes.NodeShutdown, DisconnectReasons.NodeShutdown), this);
        using var joinTimer = new CancellationTokenSource(_services.Options.JoinTimeout, _services.Time);
        using var joinRegistration = joinTimer.Token.Register(static s => ((Session)s!).JoinTimedOut(), session);

        var writer = WriteLoopAsync();
        try
        {
            await ReadLoopAsync(session, joinTimer).ConfigureAwait(false);
        }
        catch (WebSocketException e) when (e.WebSocketErrorCode == WebSocketError.Faulted)
        {
            // The WebSocket failed the connection itself (a text frame that is not UTF-8: RFC 6455 §8.1 and 1007): it
            // queued its close frame and marked itself Aborted, so it reads nothing more. Returning now would let the
            // server tear the TCP connection down under the queued frame, and a client on a loaded machine reads a
            // reset instead of the code. Keep the connection until the client, having read the close, drops it.
            await AwaitClientGoneAsync(connectionClosed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or was cut off.
        }
        catch (Exception e)
        {
            Log.ConnectionFailed(_services.Logger, e, session.ConnectionId);
        }
        finally
        {
            session.End(null, CloseCodes.Normal, DisconnectReasons.Closed);
            await joinRegistration.DisposeAsync().ConfigureAwait(false);
            try
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.ConnectionFailed(_services.Logger, e, session.ConnectionId);
            }

            await writer.ConfigureAwait(false);
            _socket.Abort();
            _socket.Dispose();
            _stop.Dispose();
        }
    }

    private async Task ReadLoopAsync(Session session, CancellationTokenSource joinTimer)
    {
        var max = _services.Options.MaxFrameBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(max);
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var reading = true;
            while (reading)
            {
                var length = 0;
                var oversize = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length < max)
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(length, max - length), _stop.Token).ConfigureAwait(false);
                        length += result.Count;
                    }
                    else
                    {
                        result = await _socket.ReceiveAsync(scratch.AsMemory(), _stop.Token).ConfigureAwait(false);
                        oversize |= result.Count > 0;
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    session.End(null, CloseCodes.Normal, DisconnectReasons.Closed);
                    return;
                }

                if (Volatile.Read(ref _closing) == 1)
                {
                    continue; // Drain until the client answers our close.
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    reading = session.RejectFrame(ErrorCodes.BadRequest, "Frames are JSON text, not binary.", null);
                }
                else if (oversize)
                {
                    reading = session.RejectFrame(ErrorCodes.FrameTooLarge, $"Frames are limited to {max} bytes.", null);
                }
                else if (!ClientFrameParser.TryParse(buffer.AsSpan(0, length), out var frame, out var idJson, out var error))
                {
                    reading = session.RejectFrame(ErrorCodes.BadRequest, error, idJson);
                }
                else
                {
                    // The join timeout bounds how long a connection may stay without sending a join: once one arrives,
                    // its own bounds (the placement wait, the control-plane query) decide, and a slow placement is
                    // answered with what it found, never with join-timeout.
                    if (!session.IsJoined && frame!.Type == ClientFrameType.Join)
                    {
                        joinTimer.Dispose();
                    }

                    reading = await session.HandleAsync(frame!, _stop.Token).ConfigureAwait(false);
                }

                if (!reading)
                {
                    // Keep reading only to complete the close handshake.
                    reading = true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Waits until the client drops the connection, at most <see cref="CloseGrace"/>.</summary>
    private async Task AwaitClientGoneAsync(CancellationToken connectionClosed)
    {
        try
        {
            await Task.Delay(CloseGrace, _services.Time, connectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went.
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var item in _outbound.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                if (item.Frame is not null || item.Render is not null)
                {
                    Interlocked.Decrement(ref _queued);
                    var frame = item.Frame ?? item.Render!();
                    if (item.Frame is not null)
                    {
                        Interlocked.Add(ref _queuedBytes, -frame.Length);
                    }

                    await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token).ConfigureAwait(false);
                }
                else
                {
                    if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync((WebSocketCloseStatus)item.CloseCode, item.CloseReason, _stop.Token).ConfigureAwait(false);
                    }

                    return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // A send that fails because our close frame already went (the WebSocket failed the connection itself, e.g.
            // invalid UTF-8) must not cut the close handshake short: the read side waits CloseGrace for the client's
            // close, so the client reads the close code instead of a reset. Any other failure ends the connection.
            if (_socket.State is not (WebSocketState.CloseSent or WebSocketState.Closed))
            {
                _stop.Cancel();
            }
        }
    }

    private readonly record struct Outgoing(byte[]? Frame, Func<byte[]>? Render, int CloseCode, string? CloseReason);
}
