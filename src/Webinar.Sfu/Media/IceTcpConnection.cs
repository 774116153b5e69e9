using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Webinar.Sfu.Media;

/// <summary>
/// One accepted ICE-TCP connection (RFC 6544, passive side): datagrams framed with a 2-byte length (RFC 4571) both
/// ways. Reading and framing run on the loop thread; sending may come from the DTLS handshake thread too, so it is
/// serialized by a lock. Both buffers are bounded: a frame longer than <see cref="MaxFrame"/> is skipped and counted,
/// and a datagram that does not fit the send backlog is dropped and counted, like a UDP loss.
/// </summary>
internal sealed class IceTcpConnection : MediaSocket, IDisposable
{
    /// <summary>Largest frame accepted from a peer (RFC 4571 allows 65535; ICE peers send datagrams of MTU size).</summary>
    public const int MaxFrame = 4096;

    /// <summary>Bytes of framed output kept while the socket is not writable.</summary>
    public const int MaxBacklog = 256 * 1024;

    private readonly byte[] _in = GC.AllocateUninitializedArray<byte>(2 * (2 + MaxFrame));
    private readonly byte[] _out = GC.AllocateUninitializedArray<byte>(MaxBacklog);
    private readonly Lock _sendLock = new();
    private int _filled;
    private int _skip;
    private int _pending;
    private volatile bool _closed;

    public IceTcpConnection(Socket socket, MediaListenAddress address, MediaCounters counters, long acceptedAt)
        : base(address, counters)
    {
        Socket = socket;
        Socket.Blocking = false;
        Socket.NoDelay = true;
        RemoteAddress = ((IPEndPoint)socket.RemoteEndPoint!).Serialize();
        AcceptedAt = acceptedAt;
    }

    public Socket Socket { get; }

    /// <summary>The peer's address (what its ICE checks are answered with in XOR-MAPPED-ADDRESS).</summary>
    public SocketAddress RemoteAddress { get; }

    /// <summary>The transport whose valid check came over this connection; null until then. Loop thread.</summary>
    public MediaTransport? Owner { get; set; }

    public long AcceptedAt { get; }

    public bool IsClosed => _closed;

    public bool HasBacklog => Volatile.Read(ref _pending) > 0;

    /// <summary>
    /// Reads what the socket has and hands each complete frame to <paramref name="handler"/>. Returns false when the
    /// connection ended (peer closed, reset). Loop thread.
    /// </summary>
    public bool Receive(IMediaLoopHandler handler)
    {
        while (true)
        {
            var received = Socket.Receive(_in.AsSpan(_filled), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return true;
            }

            if (error != SocketError.Success || received == 0)
            {
                return false;
            }

            Counters.DatagramsReceived++;
            _filled += received;
            DeliverFrames(handler);
            if (_closed)
            {
                return false;
            }
        }
    }

    private void DeliverFrames(IMediaLoopHandler handler)
    {
        var offset = 0;
        while (true)
        {
            if (_skip > 0)
            {
                var skipped = Math.Min(_skip, _filled - offset);
                _skip -= skipped;
                offset += skipped;
                if (_skip > 0)
                {
                    break;
                }
            }

            if (_filled - offset < 2)
            {
                break;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(_in.AsSpan(offset));
            if (length == 0 || length > MaxFrame)
            {
                // Empty or oversized: skipped whole, so the stream stays in step.
                Counters.TcpBadFrames++;
                offset += 2;
                _skip = length;
                continue;
            }

            if (_filled - offset < 2 + length)
            {
                break;
            }

            try
            {
                handler.OnDatagram(_in.AsSpan(offset + 2, length), RemoteAddress, this);
            }
            catch (Exception)
            {
                Counters.HandlerErrors++;
            }

            offset += 2 + length;
            if (_closed)
            {
                return;
            }
        }

        if (offset > 0)
        {
            _in.AsSpan(offset, _filled - offset).CopyTo(_in);
            _filled -= offset;
        }
    }

    public override void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (datagram.Length > ushort.MaxValue)
        {
            Counters.SendErrors++;
            return;
        }

        Span<byte> header = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)datagram.Length);
        lock (_sendLock)
        {
            if (_closed)
            {
                return;
            }

            if (_pending == 0)
            {
                // Header and datagram in one segment when the socket takes them; whatever it does not take waits.
                var sent = SendNow(header, datagram);
                if (sent < 0)
                {
                    return;
                }

                if (sent == 2 + datagram.Length)
                {
                    Counters.DatagramsSent++;
                    return;
                }

                Queue(header, datagram, sent);
                return;
            }

            Queue(header, datagram, 0);
        }
    }

    private int SendNow(ReadOnlySpan<byte> header, ReadOnlySpan<byte> datagram)
    {
        var total = 2 + datagram.Length;
        Span<byte> frame = total <= 2048 ? stackalloc byte[total] : new byte[total];
        header.CopyTo(frame);
        datagram.CopyTo(frame[2..]);
        var sent = Socket.Send(frame, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }

        if (error != SocketError.Success)
        {
            Counters.SendErrors++;
            _closed = true;
            return -1;
        }

        return sent;
    }

    private void Queue(ReadOnlySpan<byte> header, ReadOnlySpan<byte> datagram, int alreadySent)
    {
        var remaining = 2 + datagram.Length - alreadySent;
        if (_pending + remaining > _out.Length)
        {
            if (alreadySent > 0)
            {
                // Half a frame is on the wire: the stream can no longer be framed, so the connection goes.
                _closed = true;
            }

            Counters.SendErrors++;
            return;
        }

        for (var i = alreadySent; i < 2; i++)
        {
            _out[_pending++] = header[i];
        }

        var from = Math.Max(0, alreadySent - 2);
        datagram[from..].CopyTo(_out.AsSpan(_pending));
        _pending += datagram.Length - from;
        Counters.DatagramsSent++;
    }

    /// <summary>Writes what the backlog holds once the socket is writable. Loop thread.</summary>
    public void Flush()
    {
        lock (_sendLock)
        {
            if (_pending == 0 || _closed)
            {
                return;
            }

            var sent = Socket.Send(_out.AsSpan(0, _pending), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error != SocketError.Success)
            {
                _closed = true;
                return;
            }

            _out.AsSpan(sent, _pending - sent).CopyTo(_out);
            _pending -= sent;
        }
    }

    public void Dispose()
    {
        lock (_sendLock)
        {
            _closed = true;
        }

        Socket.Dispose();
    }
}
