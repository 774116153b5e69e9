using System.Buffers;

namespace Webinar.Media.Rtp;

/// <summary>
/// Sender side store for retransmission: a ring of the last N outgoing packets, copied into pooled arrays and keyed
/// by outgoing sequence number, so NACKs can be answered. Not thread-safe: store and look up from the consumer's
/// sending thread. Dispose returns the buffers to the pool.
/// </summary>
public sealed class RtpPacketCache : IDisposable
{
    public const int MaxPacketLength = 1500;

    private readonly byte[]?[] _buffers;
    private readonly int[] _lengths;
    private readonly ushort[] _sequenceNumbers;
    private readonly int _mask;
    private bool _disposed;

    /// <param name="capacity">Number of packets kept; rounded up to a power of two (at most 32768).</param>
    public RtpPacketCache(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 32768);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _buffers = new byte[size][];
        _lengths = new int[size];
        _sequenceNumbers = new ushort[size];
        _mask = size - 1;
    }

    public int Capacity => _buffers.Length;

    /// <summary>Copies a packet (already rewritten, before protection) under its sequence number.</summary>
    public bool Store(ushort sequenceNumber, ReadOnlySpan<byte> packet)
    {
        if (_disposed || packet.Length == 0 || packet.Length > MaxPacketLength)
        {
            return false;
        }

        int slot = sequenceNumber & _mask;
        var buffer = _buffers[slot] ??= ArrayPool<byte>.Shared.Rent(MaxPacketLength);
        packet.CopyTo(buffer);
        _lengths[slot] = packet.Length;
        _sequenceNumbers[slot] = sequenceNumber;
        return true;
    }

    /// <summary>The stored packet with this sequence number, or false when it was never stored or was overwritten.</summary>
    public bool TryGet(ushort sequenceNumber, out ReadOnlySpan<byte> packet)
    {
        int slot = sequenceNumber & _mask;
        var buffer = _buffers[slot];
        if (_disposed || buffer is null || _lengths[slot] == 0 || _sequenceNumbers[slot] != sequenceNumber)
        {
            packet = default;
            return false;
        }

        packet = buffer.AsSpan(0, _lengths[slot]);
        return true;
    }

    public void Clear() => Array.Clear(_lengths);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = 0; i < _buffers.Length; i++)
        {
            if (_buffers[i] is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _buffers[i] = null;
            }
        }
    }
}
