using System.Net;
using System.Net.Sockets;

namespace Webinar.Sfu.Media;

/// <summary>
/// Where a datagram came in and where its replies leave from: a UDP socket bound to one listen address, or one ICE-TCP
/// connection. Replies always go out through the socket the request came in on, so their source is exactly the
/// address and port the peer sent to (RFC 8445 §7.2.5.2.1).
/// </summary>
internal abstract class MediaSocket
{
    protected MediaSocket(MediaListenAddress address, MediaCounters counters)
    {
        Address = address;
        Counters = counters;
    }

    /// <summary>The listen address this socket belongs to.</summary>
    public MediaListenAddress Address { get; }

    protected MediaCounters Counters { get; }

    /// <summary>Sends one datagram to <paramref name="to"/> (ignored by a TCP connection, which has one peer). Any thread.</summary>
    public abstract void Send(ReadOnlySpan<byte> datagram, SocketAddress to);

    /// <summary>
    /// Sends one datagram, or queues it for the next <see cref="UdpMediaSocket.FlushSends"/> where the socket batches
    /// (the media loop flushes at the end of every receive burst). Loop thread only.
    /// </summary>
    public virtual void SendFromLoop(ReadOnlySpan<byte> datagram, SocketAddress to) => Send(datagram, to);
}

/// <summary>
/// One UDP socket bound to one listen address. What the media thread sends through <see cref="SendFromLoop"/> goes out
/// in batches of up to <c>sendBatch</c> datagrams per sendmmsg(2) (<see cref="UdpSendBatch"/>, Linux x64), one sendto(2)
/// each elsewhere or with a batch of 1.
/// </summary>
internal sealed class UdpMediaSocket : MediaSocket, IDisposable
{
    private readonly UdpSendBatch? _batch;

    public UdpMediaSocket(MediaListenAddress address, int port, MediaCounters counters, int sendBatch = 1)
        : base(address, counters)
    {
        Socket = new Socket(address.Bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            Socket.ReceiveBufferSize = 4 * 1024 * 1024;
            Socket.SendBufferSize = 4 * 1024 * 1024;
            Socket.Bind(new IPEndPoint(address.Bind, port));
        }
        catch
        {
            Socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)Socket.LocalEndPoint!;
        ReceiveAddress = new SocketAddress(address.Bind.AddressFamily);
        if (sendBatch > 1 && UdpSendBatch.IsSupported)
        {
            _batch = new UdpSendBatch(Socket, Math.Min(sendBatch, UdpSendBatch.MaxCapacity), counters);
        }
    }

    /// <summary>True when loop sends are batched (sendmmsg).</summary>
    public bool Batches => _batch is not null;

    public Socket Socket { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Reused for every receive on the loop thread.</summary>
    public SocketAddress ReceiveAddress { get; }

    public override void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            Socket.SendTo(datagram, SocketFlags.None, to);
            Counters.DatagramsSent++;
            Counters.BytesSent += datagram.Length;
        }
        catch (SocketException)
        {
            // A full send buffer or an unreachable peer loses this one datagram, like any UDP loss.
            Counters.SendErrors++;
        }
        catch (ObjectDisposedException)
        {
            Counters.SendErrors++;
        }
    }

    public override void SendFromLoop(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (_batch is null)
        {
            Send(datagram, to);
        }
        else
        {
            _batch.Add(datagram, to);
        }
    }

    /// <summary>Sends what <see cref="SendFromLoop"/> queued. Loop thread only.</summary>
    public void FlushSends()
    {
        if (_batch is { Count: > 0 })
        {
            _batch.Flush();
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        _batch?.Dispose();
    }
}

/// <summary>The path a transport's packets take: the local socket and the peer's address (immutable).</summary>
internal sealed class MediaPath(MediaSocket socket, SocketAddress remote)
{
    public MediaSocket Socket { get; } = socket;

    public SocketAddress Remote { get; } = remote;

    public bool IsTcp => Socket is IceTcpConnection;

    public void Send(ReadOnlySpan<byte> datagram) => Socket.Send(datagram, Remote);

    /// <summary>Sends or queues for the end of the loop's burst (<see cref="MediaSocket.SendFromLoop"/>). Loop thread only.</summary>
    public void SendFromLoop(ReadOnlySpan<byte> datagram) => Socket.SendFromLoop(datagram, Remote);
}
