using System.Buffers;
using Webinar.Media.Rtp;

namespace Webinar.Connector.Subscribing;

/// <summary>
/// Puts one stream's RTP packets back in sequence-number order before the depacketizer, holding those that arrive
/// after a hole for up to <c>repairWait</c> so that the retransmission the client asked for (a NACK) can fill it, as a
/// browser's jitter buffer does; after that the hole is given up (the depacketizer then drops the frame and asks for a
/// key frame). Late and duplicate packets are refused. A jump of a whole window's worth of numbers gives up everything
/// held before it. The buffer owns the pooled arrays it holds (<see cref="ArrayPool{T}.Shared"/>) until it hands them
/// out. Not thread-safe: one decoding thread.
/// </summary>
internal sealed class RtpReorderBuffer : IDisposable
{
    private readonly byte[]?[] _buffers;
    private readonly int[] _lengths;
    private readonly long[] _arrivals;
    private readonly long[] _sequences;
    private readonly int _mask;
    private readonly long _waitTicks;
    private readonly TimeProvider _time;
    private readonly SeqNumberUnwrapper _unwrapper = new();
    private long _expected = long.MinValue;
    private long _highest = long.MinValue;
    private int _held;

    public RtpReorderBuffer(TimeSpan repairWait, TimeProvider time, int capacity = 512)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A power of two, at least 2.");
        }

        _buffers = new byte[]?[capacity];
        _lengths = new int[capacity];
        _arrivals = new long[capacity];
        _sequences = new long[capacity];
        _mask = capacity - 1;
        _time = time;
        _waitTicks = (long)(repairWait.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Packets held behind a hole.</summary>
    public int Held => _held;

    /// <summary>Sequence numbers given up on: never arrived within the wait, or pushed out by a jump.</summary>
    public long Skipped { get; private set; }

    /// <summary>Packets that arrived after a later one and were still in time: holes filled, by reordering or retransmission.</summary>
    public long Repaired { get; private set; }

    /// <summary>Packets refused as late (their place already given up or delivered) or duplicate.</summary>
    public long Late { get; private set; }

    /// <summary>
    /// Takes <paramref name="buffer"/> (rented from <see cref="ArrayPool{T}.Shared"/>) with <paramref name="length"/>
    /// bytes of RTP; false when it is late or a duplicate, and then the caller keeps (and returns) the buffer.
    /// </summary>
    public bool Push(byte[] buffer, int length, ushort sequenceNumber)
    {
        long extended = _unwrapper.Unwrap(sequenceNumber);
        if (_expected == long.MinValue)
        {
            _expected = extended;
        }

        if (extended < _expected || (_buffers[extended & _mask] is not null && _sequences[extended & _mask] == extended))
        {
            Late++;
            return false;
        }

        if (extended - _expected > _mask)
        {
            // Further ahead than the window: what lies before the new window can no longer be waited for.
            long start = extended - _mask;
            while (_held > 0 && _expected < start)
            {
                GiveUpOne();
            }

            if (_expected < start)
            {
                Skipped += start - _expected;
                _expected = start;
            }
        }

        if (extended < _highest)
        {
            Repaired++; // a later one came first: this one filled a hole in time
        }
        else
        {
            _highest = extended;
        }

        int slot = (int)(extended & _mask);
        _buffers[slot] = buffer;
        _lengths[slot] = length;
        _sequences[slot] = extended;
        _arrivals[slot] = _time.GetTimestamp();
        _held++;
        return true;
    }

    /// <summary>
    /// The next packet in order, if it is here, or the first one after a hole that has waited long enough; the caller
    /// owns the buffer afterwards.
    /// </summary>
    public bool TryPop(out byte[] buffer, out int length)
    {
        buffer = [];
        length = 0;
        if (_held == 0)
        {
            return false;
        }

        if (!IsHere(_expected))
        {
            long first = FirstHeld();
            if (_time.GetTimestamp() - _arrivals[first & _mask] < _waitTicks)
            {
                return false;
            }

            Skipped += first - _expected;
            _expected = first;
        }

        int slot = (int)(_expected & _mask);
        buffer = _buffers[slot]!;
        length = _lengths[slot];
        _buffers[slot] = null;
        _held--;
        _expected++;
        return true;
    }

    /// <summary>How long until the hole in front gives up (zero when a packet can be taken now); null when nothing is held.</summary>
    public TimeSpan? TimeUntilReady()
    {
        if (_held == 0)
        {
            return null;
        }

        if (IsHere(_expected))
        {
            return TimeSpan.Zero;
        }

        long waited = _time.GetTimestamp() - _arrivals[FirstHeld() & _mask];
        return waited >= _waitTicks ? TimeSpan.Zero : TimeSpan.FromSeconds((_waitTicks - waited) / (double)_time.TimestampFrequency);
    }

    public void Dispose()
    {
        for (int i = 0; i < _buffers.Length; i++)
        {
            if (_buffers[i] is { } held)
            {
                ArrayPool<byte>.Shared.Return(held);
                _buffers[i] = null;
            }
        }

        _held = 0;
    }

    private bool IsHere(long extended) => _buffers[extended & _mask] is not null && _sequences[extended & _mask] == extended;

    /// <summary>The lowest held number after the hole at <see cref="_expected"/> (there is one: <see cref="_held"/> &gt; 0).</summary>
    private long FirstHeld()
    {
        long at = _expected;
        while (!IsHere(at))
        {
            at++;
        }

        return at;
    }

    /// <summary>Moves past <see cref="_expected"/>: a held packet there is thrown away, a hole is skipped.</summary>
    private void GiveUpOne()
    {
        int slot = (int)(_expected & _mask);
        if (IsHere(_expected))
        {
            ArrayPool<byte>.Shared.Return(_buffers[slot]!);
            _buffers[slot] = null;
            _held--;
        }

        Skipped++;
        _expected++;
    }
}
