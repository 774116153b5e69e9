using System.Buffers;
using Org.BouncyCastle.Tls;

namespace Webinar.Media.Dtls;

/// <summary>
/// BouncyCastle's <see cref="DatagramTransport"/> over a bounded in-memory queue: the UDP demux thread enqueues copies
/// (pooled buffers) through <see cref="TryEnqueue"/>, the handshake thread blocks in <see cref="Receive"/>.
/// <see cref="Abort"/> wakes a blocked receiver and makes every later receive throw, which unwinds a handshake at once.
/// <see cref="WhenArrived"/> fires with the first datagram (or the abort), so a server handshake can wait for its
/// ClientHello without holding a thread and start on a worker without a thread-pool hop.
/// </summary>
internal sealed class DtlsDatagramChannel : DatagramTransport
{
    private readonly object _gate = new();
    private readonly byte[][] _buffers;
    private readonly int[] _lengths;
    private readonly IDatagramSender _sender;
    private readonly int _sendLimit;
    private int _head;
    private int _count;
    private DtlsError _abortReason;
    private bool _closedByProtocol;
    private int _sent;
    private Action<object?>? _onArrived;
    private object? _onArrivedState;
    private int _arrived;

    public DtlsDatagramChannel(IDatagramSender sender, int capacity, int sendLimit)
    {
        _sender = sender;
        _sendLimit = sendLimit;
        _buffers = new byte[capacity][];
        _lengths = new int[capacity];
    }

    /// <summary>Largest datagram accepted; bigger ones are dropped (no DTLS peer sends more than a path MTU).</summary>
    public const int MaxDatagramSize = 2048;

    /// <summary>
    /// Calls <paramref name="callback"/> once, on the thread that queues the first datagram or aborts the channel
    /// (at once if that already happened). It must be quick: it runs on the UDP demux thread.
    /// </summary>
    public void WhenArrived(Action<object?> callback, object? state)
    {
        _onArrivedState = state;
        Volatile.Write(ref _onArrived, callback);
        if (Volatile.Read(ref _arrived) != 0)
        {
            Arrive();
        }
    }

    private void Arrive()
    {
        Volatile.Write(ref _arrived, 1);
        var callback = Interlocked.Exchange(ref _onArrived, null);
        callback?.Invoke(_onArrivedState);
    }

    public DtlsError AbortReason
    {
        get
        {
            lock (_gate)
            {
                return _abortReason;
            }
        }
    }

    /// <summary>True once BouncyCastle closed the transport (close_notify sent or received, or a fatal alert).</summary>
    public bool ClosedByProtocol
    {
        get
        {
            lock (_gate)
            {
                return _closedByProtocol;
            }
        }
    }

    public bool HasPending
    {
        get
        {
            lock (_gate)
            {
                return _count > 0;
            }
        }
    }

    /// <summary>Copies the datagram into the queue. False when it is too big, the queue is full, or the channel is done.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxDatagramSize)
        {
            return false;
        }

        lock (_gate)
        {
            if (_abortReason != DtlsError.None || _closedByProtocol || _count == _buffers.Length)
            {
                return false;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
            datagram.CopyTo(buffer);
            var tail = (_head + _count) % _buffers.Length;
            _buffers[tail] = buffer;
            _lengths[tail] = datagram.Length;
            _count++;
            Monitor.PulseAll(_gate);
        }

        Arrive();
        return true;
    }

    /// <summary>Fails the channel: a blocked <see cref="Receive"/> wakes and throws. The first reason wins.</summary>
    public void Abort(DtlsError reason)
    {
        lock (_gate)
        {
            if (_abortReason == DtlsError.None)
            {
                _abortReason = reason;
            }

            while (_count > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffers[_head]);
                _buffers[_head] = null!;
                _head = (_head + 1) % _buffers.Length;
                _count--;
            }

            Monitor.PulseAll(_gate);
        }

        Arrive();
    }

    public int GetReceiveLimit() => MaxDatagramSize;

    public int GetSendLimit() => _sendLimit;

    /// <summary>
    /// Next queued datagram into <paramref name="buf"/>; -1 when none arrives within <paramref name="waitMillis"/>
    /// (0 or less polls). Throws <see cref="DtlsChannelAbortedException"/> once aborted.
    /// </summary>
    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    public int Receive(Span<byte> buf, int waitMillis)
    {
        var deadline = waitMillis > 0 ? Environment.TickCount64 + waitMillis : 0;
        lock (_gate)
        {
            while (true)
            {
                if (_abortReason != DtlsError.None)
                {
                    throw new DtlsChannelAbortedException(_abortReason);
                }

                if (_count > 0)
                {
                    var buffer = _buffers[_head];
                    var length = _lengths[_head];
                    _buffers[_head] = null!;
                    _head = (_head + 1) % _buffers.Length;
                    _count--;
                    var fits = length <= buf.Length;
                    if (fits)
                    {
                        buffer.AsSpan(0, length).CopyTo(buf);
                    }

                    ArrayPool<byte>.Shared.Return(buffer);
                    if (fits)
                    {
                        return length;
                    }

                    continue;
                }

                if (_closedByProtocol)
                {
                    return -1;
                }

                var remaining = deadline - Environment.TickCount64;
                if (waitMillis <= 0 || remaining <= 0)
                {
                    return -1;
                }

                Monitor.Wait(_gate, (int)remaining);
            }
        }
    }

    /// <summary>True once anything was sent through this channel.</summary>
    public bool SentAny => Volatile.Read(ref _sent) != 0;

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> datagram)
    {
        Volatile.Write(ref _sent, 1);
        _sender.Send(datagram);
    }

    public void Close()
    {
        lock (_gate)
        {
            _closedByProtocol = true;
            Monitor.PulseAll(_gate);
        }
    }
}

/// <summary>Thrown inside the handshake thread to unwind BouncyCastle when the channel is aborted.</summary>
internal sealed class DtlsChannelAbortedException(DtlsError reason) : IOException($"DTLS channel aborted: {reason}.")
{
    public DtlsError Reason { get; } = reason;
}
