using System.Net;
using System.Net.Sockets;

namespace Webinar.TestSupport.Network;

/// <summary>
/// The TCP half of the emulator: accepts on <see cref="EndPoint"/>, connects each client to <c>target</c>, and holds
/// every chunk read in either direction for that direction's delay and jitter (loss is TCP's to repair, so a profile's
/// loss rate is not applied here: it would only add delay, which the profile already says).
/// </summary>
public sealed class TcpDelayForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly LinkProfile _toTarget, _toClient;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IDisposable> _open = [];

    public TcpDelayForwarder(IPEndPoint listen, IPEndPoint target, LinkProfile toTarget, LinkProfile toClient)
    {
        _target = target;
        _toTarget = toTarget with { LossRate = 0 };
        _toClient = toClient with { LossRate = 0 };
        _listener = new TcpListener(listen);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _ = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint { get; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            _ = Task.Run(() => ConnectAsync(client));
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        var upstream = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
        }
        catch (Exception)
        {
            client.Dispose();
            upstream.Dispose();
            return;
        }
        var toTarget = new DelayLine(_toTarget, (b, n) => Write(upstream, b, n), $"tcp→{_target}");
        var toClient = new DelayLine(_toClient, (b, n) => Write(client, b, n), "tcp→client");
        lock (_open)
        {
            _open.AddRange([toTarget, toClient, client, upstream]);
        }

        await Task.WhenAll(PumpAsync(client, toTarget), PumpAsync(upstream, toClient));
    }

    // An empty chunk is the end of the stream: it travels the delay line like data, so the far side sees the close
    // only after everything sent before it.
    private static void Write(Socket to, byte[] buffer, int length)
    {
        if (length == 0)
        {
            to.Shutdown(SocketShutdown.Send);
        }
        else
        {
            to.Send(buffer.AsSpan(0, length));
        }
    }

    private async Task PumpAsync(Socket from, DelayLine line)
    {
        var buffer = new byte[16384];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                line.Offer(buffer.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException) { return; }
        catch (ObjectDisposedException) { return; }
        catch (SocketException) { } // reset by either side: close the other one as well
        line.Offer([]);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (var d in _open)
            {
                d.Dispose();
            }
        }

        _stop.Dispose();
    }
}
