using System.Net;
using System.Net.Sockets;

namespace Webinar.TestSupport.Network;

/// <summary>
/// An emulated UDP link between two hosts that know each other by address (two nodes' relay link), where a forwarder's
/// per-client upstream socket would break the peer check each side makes. Each host announces a stand-in address
/// (another loopback address, same port: <c>Sfu:MediaAddresses</c> <c>ip=announced</c>) on which this emulator
/// listens for it: what host A sends to B's stand-in reaches B after the link's delay, sent from A's stand-in, so B
/// sees A's announced address as the source; the same the other way. Datagrams from anyone else are dropped (counted).
/// </summary>
public sealed class UdpLinkEmulator : IDisposable
{
    private const int SocketBuffer = 4 << 20;
    private readonly Socket _standInA, _standInB;
    private readonly IPEndPoint _realA, _realB;
    private readonly DelayLine _toA, _toB;
    private readonly CancellationTokenSource _stop = new();
    private long _strangers;

    /// <param name="realA">Where host A really receives.</param>
    /// <param name="standInA">The address A announces (B sends there).</param>
    /// <param name="profileAToB">Delay, jitter and loss from A to B; <paramref name="profileBToA"/> the other way.</param>
    public UdpLinkEmulator(IPEndPoint realA, IPEndPoint standInA, IPEndPoint realB, IPEndPoint standInB, LinkProfile profileAToB, LinkProfile profileBToA)
    {
        _realA = realA;
        _realB = realB;
        _standInA = Bind(standInA);
        _standInB = Bind(standInB);
        _toB = new DelayLine(profileAToB, (b, n) => _standInA.SendTo(b.AsSpan(0, n), SocketFlags.None, _realB), $"link→{realB}");
        _toA = new DelayLine(profileBToA, (b, n) => _standInB.SendTo(b.AsSpan(0, n), SocketFlags.None, _realA), $"link→{realA}");
        _ = Task.Run(() => ReceiveAsync(_standInB, _realA, _toB));
        _ = Task.Run(() => ReceiveAsync(_standInA, _realB, _toA));
    }

    /// <summary>Datagrams the emulated loss dropped, both ways.</summary>
    public long Dropped => _toA.Dropped + _toB.Dropped;

    public long Forwarded => _toA.Passed + _toB.Passed;

    /// <summary>Datagrams from neither host (dropped).</summary>
    public long FromStrangers => Interlocked.Read(ref _strangers);

    private static Socket Bind(IPEndPoint at)
    {
        var socket = new Socket(at.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = SocketBuffer, SendBufferSize = SocketBuffer };
        socket.Bind(at);
        return socket;
    }

    /// <summary>What arrives on <paramref name="socket"/> (a host's stand-in) from <paramref name="sender"/> goes into <paramref name="line"/>.</summary>
    private async Task ReceiveAsync(Socket socket, IPEndPoint sender, DelayLine line)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            if (!sender.Equals(r.RemoteEndPoint))
            {
                Interlocked.Increment(ref _strangers);
                continue;
            }

            line.Offer(buffer.AsSpan(0, r.ReceivedBytes));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _standInA.Dispose();
        _standInB.Dispose();
        _toA.Dispose();
        _toB.Dispose();
        _stop.Dispose();
    }
}
