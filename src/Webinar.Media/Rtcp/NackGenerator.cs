using Webinar.Media.Rtp;

namespace Webinar.Media.Rtcp;

/// <summary>
/// Receiver side NACK logic for one incoming stream: detects gaps in the sequence numbers, asks for each missing
/// packet at once and then again every max(RTT, minimum spacing), up to a retry limit, and forgets packets that are
/// too old. A gap too large to recover by retransmission is reported so the caller can request a keyframe instead.
/// Not thread-safe: feed and poll it from the stream's receive thread.
/// </summary>
public sealed class NackGenerator
{
    private readonly TimeProvider _time;
    private readonly int _maxRetries;
    private readonly int _maxAge;
    private readonly long[] _sequence;
    private readonly int[] _retries;
    private readonly long[] _lastSent;
    private readonly SeqNumberUnwrapper _unwrapper = new();
    private int _count;
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
            _count = 0;
            overflow = true;
        }
        else
        {
            for (long s = _highest + 1; s < extended; s++)
            {
                if (_count == _sequence.Length)
                {
                    RemoveAt(0);
                    overflow = true;
                }

                _sequence[_count] = s;
                _retries[_count] = 0;
                _lastSent[_count] = 0;
                _count++;
            }
        }

        _highest = extended;
        while (_count > 0 && _highest - _sequence[0] > _maxAge)
        {
            RemoveAt(0);
        }

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
        int i = 0;
        while (i < _count && written < destination.Length)
        {
            if (_retries[i] > 0 && now - _lastSent[i] < spacing)
            {
                i++;
                continue;
            }

            destination[written++] = (ushort)_sequence[i];
            _retries[i]++;
            _lastSent[i] = now;
            if (_retries[i] >= _maxRetries)
            {
                RemoveAt(i);
                continue;
            }

            i++;
        }

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

    private void Remove(long extended)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_sequence[i] == extended)
            {
                RemoveAt(i);
                return;
            }
        }
    }

    private void RemoveAt(int index)
    {
        int tail = _count - index - 1;
        if (tail > 0)
        {
            Array.Copy(_sequence, index + 1, _sequence, index, tail);
            Array.Copy(_retries, index + 1, _retries, index, tail);
            Array.Copy(_lastSent, index + 1, _lastSent, index, tail);
        }

        _count--;
    }
}
