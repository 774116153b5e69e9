using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Webinar.TestSupport.Network;

/// <summary>
/// A userspace stand-in for netem on UDP (this kernel has none): clients send to <see cref="EndPoint"/>, and each
/// datagram reaches <c>target</c> after the <c>toTarget</c> profile's delay, jitter and loss; replies come back the
/// same way under <c>toClient</c>. Each client source address gets an upstream socket of its own, so the target sees
/// one stable address per client (as behind a NAT) and replies find their way back.
/// </summary>
public sealed class UdpDelayForwarder : IDisposable
{
    private readonly Socket _listen;
    private readonly IPEndPoint _target;
    private readonly LinkProfile _toTarget, _toClient;
    private readonly ConcurrentDictionary<IPEndPoint, Flow> _flows = new();
    private readonly CancellationTokenSource _stop = new();

    // Large enough that a busy machine's scheduler, not the kernel's buffers, is what the emulator waits on: only the
    // profile's loss may drop a datagram.
    private const int SocketBuffer = 4 << 20;

    public UdpDelayForwarder(IPEndPoint listen, IPEndPoint target, LinkProfile toTarget, LinkProfile toClient)
    {
        _target = target;
        _toTarget = toTarget;
        _toClient = toClient;
        _listen = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = SocketBuffer, SendBufferSize = SocketBuffer };
        _listen.Bind(listen);
        EndPoint = (IPEndPoint)_listen.LocalEndPoint!;
        _ = Task.Run(ReceiveFromClientsAsync);
    }

    /// <summary>Where clients send: the emulated far end of the link.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Datagrams dropped by the emulated loss, both directions.</summary>
    public long Dropped { get { long n = 0; foreach (var f in _flows.Values) { n += f.ToTarget.Dropped + f.ToClient.Dropped; } return n; } }

    public long Forwarded { get { long n = 0; foreach (var f in _flows.Values) { n += f.ToTarget.Passed + f.ToClient.Passed; } return n; } }

    private async Task ReceiveFromClientsAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(_listen.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _listen.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; } // ICMP port unreachable from an earlier send
            var client = (IPEndPoint)r.RemoteEndPoint;
            var flow = _flows.GetOrAdd(client, c => new Flow(this, c));
            flow.ToTarget.Offer(buffer.AsSpan(0, r.ReceivedBytes));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listen.Dispose();
        foreach (var flow in _flows.Values)
        {
            flow.Dispose();
        }

        _stop.Dispose();
    }

    private sealed class Flow : IDisposable
    {
        private readonly Socket _upstream;
        private readonly UdpDelayForwarder _owner;
        private readonly IPEndPoint _client;

        public Flow(UdpDelayForwarder owner, IPEndPoint client)
        {
            _owner = owner;
            _client = client;
            _upstream = new Socket(owner._target.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = SocketBuffer, SendBufferSize = SocketBuffer };
            _upstream.Bind(new IPEndPoint(owner._target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
            ToTarget = new DelayLine(owner._toTarget, (b, n) => _upstream.SendTo(b.AsSpan(0, n), SocketFlags.None, owner._target), $"udp→{owner._target}");
            ToClient = new DelayLine(owner._toClient, (b, n) => owner._listen.SendTo(b.AsSpan(0, n), SocketFlags.None, client), $"udp→{client}");
            _ = Task.Run(ReceiveFromTargetAsync);
        }

        public DelayLine ToTarget { get; }
        public DelayLine ToClient { get; }

        private async Task ReceiveFromTargetAsync()
        {
            var buffer = new byte[65536];
            EndPoint any = new IPEndPoint(_upstream.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            var token = _owner._stop.Token;
            while (!token.IsCancellationRequested)
            {
                try
                {
                    var r = await _upstream.ReceiveFromAsync(buffer, SocketFlags.None, any, token);
                    ToClient.Offer(buffer.AsSpan(0, r.ReceivedBytes));
                }
                catch (OperationCanceledException) { return; }
                catch (ObjectDisposedException) { return; }
                catch (SocketException) { }
            }
        }

        public void Dispose()
        {
            ToTarget.Dispose();
            ToClient.Dispose();
            _upstream.Dispose();
        }
    }
}
