namespace Webinar.Media.Rtp;

/// <summary>
/// Extends 16-bit sequence numbers to 64 bits (RFC 3550 A.1 cycles). Each number is placed at the extended value
/// nearest to the highest one seen, so reordering across a wrap lands on the right cycle. Numbers that precede the
/// first one across a wrap come back negative. Not thread-safe: one per stream, on its receive path.
/// </summary>
public sealed class SeqNumberUnwrapper
{
    private long _highest;
    private bool _started;

    public long Highest => _highest;

    public bool HasStarted => _started;

    public long Unwrap(ushort sequenceNumber)
    {
        if (!_started)
        {
            _started = true;
            _highest = sequenceNumber;
            return sequenceNumber;
        }

        long extended = _highest + (short)(ushort)(sequenceNumber - (ushort)_highest);
        if (extended > _highest)
        {
            _highest = extended;
        }

        return extended;
    }

    /// <summary>Where a sequence number would land, without recording it.</summary>
    public long Peek(ushort sequenceNumber) =>
        _started ? _highest + (short)(ushort)(sequenceNumber - (ushort)_highest) : sequenceNumber;

    public void Reset()
    {
        _started = false;
        _highest = 0;
    }
}
