namespace Webinar.Media.Rtp;

/// <summary>
/// Per-consumer mapping of incoming (SSRC, sequence number, timestamp) onto one outgoing SSRC with continuous
/// sequence numbers and timestamps (the idea of mediasoup's RtpStreamSend/SeqManager). When the source changes —
/// another SSRC, or <see cref="Resync"/> — the next output sequence number is the last one sent + 1 and the
/// timestamp advances by the wall-clock gap times the clock rate. Packets older than the switch point, and late
/// packets of the previous source (not newer than the last one seen from it), are dropped. Gaps inside one source are kept (so NACKs still line up);
/// <see cref="Drop"/> closes the gap left by a packet deliberately not forwarded. Not thread-safe: one consumer,
/// one sending thread.
/// </summary>
public sealed class RtpStreamRewriter
{
    private const int DroppedCapacity = 64;

    private readonly TimeProvider _time;
    private readonly uint _clockRate;
    private readonly SeqNumberUnwrapper _unwrapper = new();
    private readonly long[] _dropped = new long[DroppedCapacity];
    private int _droppedCount;

    private bool _hasSource;
    private bool _resyncPending;
    private uint _sourceSsrc;
    private uint _previousSsrc;
    private ushort _previousHighestSeq;
    private bool _hasPreviousSource;
    private long _switchPoint;       // extended input seq of the first packet of the current source
    private long _seqOffset;         // output = extended input + offset - drops below it
    private uint _timestampOffset;   // output = input + offset (mod 2^32)

    private bool _hasOutput;
    private long _highestInput;      // extended, includes dropped packets (mediasoup maxInput)
    private ushort _highestOutputSeq;
    private uint _highestOutputTimestamp;
    private long _highestOutputTicks;
    private readonly ushort _initialSequenceNumber;
    private readonly uint _initialTimestamp;

    public RtpStreamRewriter(uint outputSsrc, uint clockRate, TimeProvider time, ushort initialSequenceNumber = 0, uint initialTimestamp = 0)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfZero(clockRate);
        OutputSsrc = outputSsrc;
        _clockRate = clockRate;
        _time = time;
        _initialSequenceNumber = initialSequenceNumber;
        _initialTimestamp = initialTimestamp;
    }

    public uint OutputSsrc { get; }

    /// <summary>The last (highest) sequence number sent; meaningful once a packet went out.</summary>
    public ushort LastSequenceNumber => _highestOutputSeq;

    /// <summary>The timestamp of the last (highest) packet sent, for sender reports.</summary>
    public uint LastTimestamp => _highestOutputTimestamp;

    /// <summary>
    /// Makes the next packet a new base even with the same SSRC (producer restart, layer switch); also lets the next
    /// packet come from the previous SSRC without being taken for a late one.
    /// </summary>
    public void Resync() => _resyncPending = true;

    /// <summary>Maps one incoming packet; false means drop it (older than the switch point or a stale source).</summary>
    public bool TryMap(uint ssrc, ushort sequenceNumber, uint timestamp, out ushort outputSequenceNumber, out uint outputTimestamp)
    {
        outputSequenceNumber = 0;
        outputTimestamp = 0;
        if (_hasSource && ssrc != _sourceSsrc && _hasPreviousSource && ssrc == _previousSsrc && !_resyncPending
            && (short)(ushort)(sequenceNumber - _previousHighestSeq) <= 0)
        {
            return false; // a late packet of the source we switched away from; newer ones mean it is back
        }

        if (!_hasSource || ssrc != _sourceSsrc || _resyncPending)
        {
            SwitchTo(ssrc, sequenceNumber, timestamp);
        }

        long extended = _unwrapper.Unwrap(sequenceNumber);
        if (extended < _switchPoint || IsDropped(extended))
        {
            return false;
        }

        long output = extended + _seqOffset - CountDroppedBelow(extended);
        outputSequenceNumber = (ushort)output;
        outputTimestamp = timestamp + _timestampOffset;
        if (!_hasOutput || (short)(ushort)(outputSequenceNumber - _highestOutputSeq) > 0)
        {
            _hasOutput = true;
            _highestOutputSeq = outputSequenceNumber;
            _highestOutputTimestamp = outputTimestamp;
            _highestOutputTicks = _time.GetTimestamp();
        }

        if (extended > _highestInput)
        {
            _highestInput = extended;
        }

        return true;
    }

    /// <summary>Rewrites SSRC, sequence number and timestamp of the packet in place; false means drop it.</summary>
    public bool TryRewrite(RtpPacket packet)
    {
        if (!TryMap(packet.Ssrc, packet.SequenceNumber, packet.Timestamp, out ushort sequenceNumber, out uint timestamp))
        {
            return false;
        }

        packet.Ssrc = OutputSsrc;
        packet.SequenceNumber = sequenceNumber;
        packet.Timestamp = timestamp;
        return true;
    }

    /// <summary>
    /// Takes the next output sequence number for a packet the consumer makes itself (padding to probe bandwidth):
    /// every later packet of the source moves up by one, so nothing collides and no gap appears. The timestamp is the
    /// last one sent. False before any packet was sent (there is no sequence space yet).
    /// </summary>
    public bool TryReserveSequenceNumber(out ushort sequenceNumber, out uint timestamp)
    {
        sequenceNumber = 0;
        timestamp = 0;
        if (!_hasOutput)
        {
            return false;
        }

        _seqOffset++;
        _highestOutputSeq++;
        sequenceNumber = _highestOutputSeq;
        timestamp = _highestOutputTimestamp;
        return true;
    }

    /// <summary>
    /// Records that a packet of the current source is deliberately not forwarded, so later packets close the gap.
    /// Only packets newer than the highest seen count (an old one left no gap ahead of it).
    /// </summary>
    public void Drop(uint ssrc, ushort sequenceNumber)
    {
        if (!_hasSource || ssrc != _sourceSsrc || _resyncPending)
        {
            return;
        }

        long extended = _unwrapper.Peek(sequenceNumber);
        if (extended <= _highestInput)
        {
            return;
        }

        _unwrapper.Unwrap(sequenceNumber);
        _highestInput = extended;
        if (_droppedCount == DroppedCapacity)
        {
            // Fold the oldest drop into the offset: every packet still to come is newer than it.
            _seqOffset--;
            Array.Copy(_dropped, 1, _dropped, 0, DroppedCapacity - 1);
            _droppedCount--;
        }

        _dropped[_droppedCount++] = extended;
    }

    private void SwitchTo(uint ssrc, ushort sequenceNumber, uint timestamp)
    {
        if (_hasSource && ssrc != _sourceSsrc)
        {
            _previousSsrc = _sourceSsrc;
            _previousHighestSeq = (ushort)_unwrapper.Highest;
            _hasPreviousSource = true;
        }

        _hasSource = true;
        _resyncPending = false;
        _sourceSsrc = ssrc;
        _unwrapper.Reset();
        _droppedCount = 0;
        long first = _unwrapper.Peek(sequenceNumber);
        _switchPoint = first;
        _highestInput = first - 1;
        if (!_hasOutput)
        {
            _seqOffset = _initialSequenceNumber - first;
            _timestampOffset = _initialTimestamp - timestamp;
            return;
        }

        _seqOffset = _highestOutputSeq + 1L - first;
        long elapsedMicros = (long)(_time.GetElapsedTime(_highestOutputTicks).Ticks / 10);
        ulong advance = (ulong)Math.Max(1L, elapsedMicros) * _clockRate / 1_000_000UL;
        uint target = _highestOutputTimestamp + (uint)Math.Max(1UL, advance);
        _timestampOffset = target - timestamp;
    }

    private bool IsDropped(long extended)
    {
        for (int i = 0; i < _droppedCount; i++)
        {
            if (_dropped[i] == extended)
            {
                return true;
            }
        }

        return false;
    }

    private int CountDroppedBelow(long extended)
    {
        int count = 0;
        for (int i = 0; i < _droppedCount; i++)
        {
            if (_dropped[i] < extended)
            {
                count++;
            }
        }

        return count;
    }
}
