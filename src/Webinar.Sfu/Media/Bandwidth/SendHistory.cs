namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// The packets sent to one subscriber by transport-wide sequence number: when and how big, so its transport-wide
/// feedback can be matched to send times. A ring indexed by the sequence number; a slot reused by a newer packet
/// no longer answers for the older one. Loop thread only.
/// </summary>
internal sealed class SendHistory
{
    private readonly long[] _sendMicros;
    private readonly int[] _sizes;
    private readonly int[] _sequence;
    private readonly int _mask;

    /// <param name="capacity">Rounded up to a power of two within 256–65,536 (a configured value is never refused).</param>
    public SendHistory(int capacity)
    {
        capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, 256, 65536));

        _sendMicros = new long[capacity];
        _sizes = new int[capacity];
        _sequence = new int[capacity];
        Array.Fill(_sequence, -1);
        _mask = capacity - 1;
    }

    /// <summary>The transport-wide sequence number the next packet gets.</summary>
    public ushort NextSequenceNumber { get; private set; }

    /// <summary>Records a packet of <paramref name="size"/> bytes sent now; returns its transport-wide sequence number.</summary>
    public ushort OnSent(int size, long nowMicros)
    {
        var seq = NextSequenceNumber++;
        var slot = seq & _mask;
        _sendMicros[slot] = nowMicros;
        _sizes[slot] = size;
        _sequence[slot] = seq;
        return seq;
    }

    public bool TryGet(ushort sequenceNumber, out long sendMicros, out int size)
    {
        var slot = sequenceNumber & _mask;
        if (_sequence[slot] != sequenceNumber)
        {
            sendMicros = 0;
            size = 0;
            return false;
        }

        sendMicros = _sendMicros[slot];
        size = _sizes[slot];
        return true;
    }
}
