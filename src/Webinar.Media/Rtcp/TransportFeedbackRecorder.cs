using Webinar.Media.Rtp;

namespace Webinar.Media.Rtcp;

/// <summary>
/// Receiver side of transport-wide congestion control: records (transport-wide sequence number, arrival time) of
/// incoming packets and, when the caller asks (about every 100 ms), builds feedback covering everything that
/// arrived since the previous feedback. Missing packets are reported as not received; reordered packets older than
/// the last feedback are reported again (as libwebrtc's RemoteEstimatorProxy does). A delta that does not fit 16 bits
/// (a pause over 8 s) or a full packet ends the feedback there, and the next call starts a new base — call
/// <see cref="TryBuildFeedback"/> until it returns false. Each slot of the ring is tagged with the sequence number it
/// holds, so a gap costs nothing to record; a jump of more than <see cref="MaxGap"/> numbers (thousands of packets
/// lost at once, or a peer playing with the numbers) starts the next feedback at the new packet instead of reporting
/// every number in between, as libwebrtc's arrival map resets on a jump past its size. Per packet the work is constant
/// whatever the sequence numbers do. Not thread-safe: record and build on the transport's thread.
/// </summary>
public sealed class TransportFeedbackRecorder
{
    private const int Capacity = 1 << 14;
    private const int Mask = Capacity - 1;
    private const long Missing = long.MinValue;
    private const int MaxPacketLength = 1200;

    /// <summary>The largest forward jump whose missing numbers are reported; a larger one restarts the window.</summary>
    public const int MaxGap = 4096;

    private readonly long[] _arrivals = new long[Capacity];
    private readonly long[] _tags = new long[Capacity];
    private readonly byte[] _deltaScratch = new byte[MaxPacketLength];
    private readonly SeqNumberUnwrapper _unwrapper = new();
    private bool _started;
    private long _windowStart;  // first extended sequence number not yet reported
    private long _highest;
    private long _resetAt = long.MinValue; // packets before the last reset never pull the window back
    private byte _feedbackCount;

    public TransportFeedbackRecorder() => Array.Fill(_tags, Missing);

    /// <summary>Jumps of more than <see cref="MaxGap"/> that restarted the feedback window.</summary>
    public long Resets { get; private set; }

    /// <summary>True when packets arrived that no feedback has covered yet.</summary>
    public bool HasPending => _started && _windowStart <= _highest;

    /// <param name="arrivalMicros">Arrival time in microseconds on a monotonic clock (non-negative).</param>
    public void OnPacket(ushort transportSequenceNumber, long arrivalMicros)
    {
        long extended = _unwrapper.Unwrap(transportSequenceNumber);
        if (!_started)
        {
            _started = true;
            _windowStart = extended;
            _highest = extended;
            Record(extended, arrivalMicros);
            return;
        }

        if (extended > _highest)
        {
            if (extended - _highest > MaxGap)
            {
                _windowStart = extended; // the numbers in between are never reported
                _resetAt = extended;
                Resets++;
            }

            _highest = extended;
            if (_highest - _windowStart >= Capacity)
            {
                _windowStart = _highest - Capacity + 1; // the oldest unreported ones fell out of the ring
            }
        }
        else if (_highest - extended >= Capacity)
        {
            return; // too old to have a slot
        }

        Record(extended, arrivalMicros);
        if (extended < _windowStart && extended >= _resetAt)
        {
            _windowStart = extended;
        }
    }

    private void Record(long extended, long arrivalMicros)
    {
        _tags[extended & Mask] = extended;
        _arrivals[extended & Mask] = arrivalMicros;
    }

    /// <summary>The arrival time of <paramref name="extended"/>, or <see cref="Missing"/>.</summary>
    private long ArrivalOf(long extended) => _tags[extended & Mask] == extended ? _arrivals[extended & Mask] : Missing;

    /// <summary>Builds one feedback packet into <paramref name="destination"/>; false when there is nothing to report.</summary>
    public bool TryBuildFeedback(Span<byte> destination, uint senderSsrc, uint mediaSsrc, out int length)
    {
        length = 0;
        if (!HasPending)
        {
            return false;
        }

        long first = _windowStart;
        while (first <= _highest && ArrivalOf(first) == Missing)
        {
            first++;
        }

        if (first > _highest)
        {
            _windowStart = _highest + 1;
            return false;
        }

        // Leading packets that are missing are reported too: the base is the first unreported number.
        long baseTime64ms = ArrivalOf(first) / 64_000;
        long previousTicks = baseTime64ms * 256;
        var writer = new TransportFeedbackWriter(destination.Slice(0, Math.Min(destination.Length, MaxPacketLength)), _deltaScratch,
            senderSsrc, mediaSsrc, (ushort)_windowStart, (int)(baseTime64ms & 0xFFFFFF), _feedbackCount);
        long next = _windowStart;
        for (; next <= _highest; next++)
        {
            long arrival = ArrivalOf(next);
            if (arrival == Missing)
            {
                if (!writer.TryAddMissing())
                {
                    break;
                }

                continue;
            }

            long ticks = arrival / TransportFeedbackEntry.MicrosPerTick;
            if (!writer.TryAddReceived((int)Math.Clamp(ticks - previousTicks, int.MinValue, int.MaxValue)))
            {
                break;
            }

            previousTicks = ticks;
        }

        if (!writer.TryComplete(out length))
        {
            return false;
        }

        _windowStart = next;
        _feedbackCount++;
        return true;
    }
}
