using Webinar.Media.Rtp;

namespace Webinar.Media.Rtcp;

/// <summary>
/// Receiver side NACK logic for one incoming stream: detects gaps in the sequence numbers, asks for each missing
/// packet at once and then again every max(RTT, minimum spacing), up to a retry limit, and forgets packets that are
/// too old. A gap too large to recover by retransmission is reported so the caller can request a keyframe instead.
/// The missing numbers are a ring in ascending order: the oldest leaves in O(1) when the list is full or too old,
/// a packet that arrives late is found by binary search and marked, so a publisher that jumps its sequence numbers
/// costs at most one write per number it skips (and a jump past the capacity just clears the list).
/// Not thread-safe: feed and poll it from the stream's receive thread.
/// </summary>
public sealed class NackGenerator
{
    private const int Removed = -1;

    private readonly TimeProvider _time;
    private readonly int _maxRetries;
    private readonly int _maxAge;
    private readonly long[] _sequence;
    private readonly int[] _retries; // Removed marks a number that arrived late or ran out of retries
    private readonly long[] _lastSent;
    private readonly SeqNumberUnwrapper _unwrapper = new();
    private int _head;  // ring index of the oldest entry
    private int _size;  // entries in the ring, removed ones included
    private int _count; // entries still missing
    private long _highest = long.MinValue;

    public NackGenerator(TimeProvider time, int maxRetries = 10, int capacity = 512, int maxAgePackets = 3000)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRetries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _maxRetries = maxRetries;
        _maxAge = maxAgePackets;
        _sequence = new long[capacity];
        _retries = new int[capacity];
        _lastSent = new long[capacity];
    }

    /// <summary>Current round-trip time estimate; retries are spaced by at least this.</summary>
    public TimeSpan RoundTripTime { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MinimumRetryInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    public int MissingCount => _count;

    /// <summary>Records an arrived packet. Returns true when a gap was too large to track (request a keyframe).</summary>
    public bool OnPacket(ushort sequenceNumber)
    {
        long extended = _unwrapper.Unwrap(sequenceNumber);
        if (_highest == long.MinValue)
        {
            _highest = extended;
            return false;
        }

        if (extended <= _highest)
        {
            Remove(extended); // a retransmission or a late packet
            return false;
        }

        bool overflow = false;
        long gap = extended - _highest - 1;
        if (gap > _sequence.Length)
        {
            overflow = true;
            Clear();
        }
        else
        {
            for (long s = _highest + 1; s < extended; s++)
            {
                if (_size == _sequence.Length)
                {
                    overflow |= PopOldest();
                }

                int at = Slot(_size);
                _sequence[at] = s;
                _retries[at] = 0;
                _lastSent[at] = 0;
                _size++;
                _count++;
            }
        }

        _highest = extended;
        while (_size > 0 && _highest - _sequence[_head] > _maxAge)
        {
            PopOldest();
        }

        TrimRemoved();
        return overflow;
    }

    /// <summary>
    /// Writes the sequence numbers due for a (re)NACK now, oldest first, and counts the attempt; entries that reached
    /// the retry limit are dropped. Returns how many were written.
    /// </summary>
    public int CollectDue(Span<ushort> destination)
    {
        long now = _time.GetTimestamp();
        long spacing = (long)(Math.Max(RoundTripTime.TotalSeconds, MinimumRetryInterval.TotalSeconds) * _time.TimestampFrequency);
        int written = 0;
        for (int i = 0; i < _size && written < destination.Length; i++)
        {
            int at = Slot(i);
            int retries = _retries[at];
            if (retries == Removed || (retries > 0 && now - _lastSent[at] < spacing))
            {
                continue;
            }

            destination[written++] = (ushort)_sequence[at];
            _lastSent[at] = now;
            if (retries + 1 >= _maxRetries)
            {
                _retries[at] = Removed;
                _count--;
            }
            else
            {
                _retries[at] = retries + 1;
            }
        }

        TrimRemoved();
        return written;
    }

    /// <summary>Collects the due sequence numbers and writes them as one generic NACK; false when none is due.</summary>
    public bool TryBuildNack(Span<byte> destination, uint senderSsrc, uint mediaSsrc, out int length)
    {
        Span<ushort> due = stackalloc ushort[64];
        int count = CollectDue(due);
        length = 0;
        return count > 0 && RtcpGenericNack.TryWrite(destination, senderSsrc, mediaSsrc, due.Slice(0, count), out length);
    }

    private int Slot(int logical)
    {
        int at = _head + logical;
        return at >= _sequence.Length ? at - _sequence.Length : at;
    }

    /// <summary>Binary search: the ring is in ascending order, removed entries keep their numbers.</summary>
    /// <summary>
    /// A retransmission arrived (RFC 4588): true when it is news — a number still missing (no longer asked for), or one
    /// beyond the highest seen (recorded as <see cref="OnPacket"/> would); false for a number already received or given
    /// up, which a sender probing with old packets on its RTX stream resends and nobody needs again.
    /// </summary>
    public bool OnRecovered(ushort sequenceNumber)
    {
        if (_highest == long.MinValue)
        {
            OnPacket(sequenceNumber);
            return true;
        }

        long extended = _unwrapper.Unwrap(sequenceNumber);
        if (extended > _highest)
        {
            OnPacket(sequenceNumber);
            return true;
        }

        return Remove(extended);
    }

    private bool Remove(long extended)
    {
        int low = 0, high = _size - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            int at = Slot(mid);
            long value = _sequence[at];
            if (value == extended)
            {
                if (_retries[at] != Removed)
                {
                    _retries[at] = Removed;
                    _count--;
                    TrimRemoved();
                    return true;
                }

                return false;
            }

            if (value < extended)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return false;
    }

    /// <summary>Drops the oldest entry; true when it was still missing.</summary>
    private bool PopOldest()
    {
        bool missing = _retries[_head] != Removed;
        if (missing)
        {
            _count--;
        }

        _head = Slot(1);
        _size--;
        return missing;
    }

    private void TrimRemoved()
    {
        while (_size > 0 && _retries[_head] == Removed)
        {
            PopOldest();
        }
    }

    private void Clear()
    {
        _head = 0;
        _size = 0;
        _count = 0;
    }
}
