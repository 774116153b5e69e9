namespace Webinar.Connector.Client;

/// <summary>
/// Single-producer single-consumer ring of (track index, sequence number) pairs: the receive thread posts what a
/// NACK asked for, the sending thread retransmits it. Lock-free and allocation-free; when full, requests are dropped
/// (the peer asks again).
/// </summary>
internal sealed class NackRequestQueue
{
    private const int Capacity = 1024;
    private readonly int[] _items = new int[Capacity];
    private int _head; // next to read (consumer)
    private int _tail; // next to write (producer)

    public bool TryEnqueue(int trackIndex, ushort sequenceNumber)
    {
        int tail = _tail;
        int next = (tail + 1) & (Capacity - 1);
        if (next == Volatile.Read(ref _head))
        {
            return false;
        }

        _items[tail] = (trackIndex << 16) | sequenceNumber;
        Volatile.Write(ref _tail, next);
        return true;
    }

    public bool TryDequeue(out int trackIndex, out ushort sequenceNumber)
    {
        int head = _head;
        if (head == Volatile.Read(ref _tail))
        {
            trackIndex = 0;
            sequenceNumber = 0;
            return false;
        }

        int item = _items[head];
        Volatile.Write(ref _head, (head + 1) & (Capacity - 1));
        trackIndex = item >>> 16;
        sequenceNumber = (ushort)item;
        return true;
    }
}
