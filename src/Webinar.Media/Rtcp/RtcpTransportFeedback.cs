using System.Buffers.Binary;

namespace Webinar.Media.Rtcp;

/// <summary>Packet status symbols of transport-wide congestion control feedback.</summary>
public enum TransportFeedbackStatus : byte
{
    NotReceived = 0,
    ReceivedSmallDelta = 1,
    ReceivedLargeDelta = 2,
    /// <summary>Reserved in the draft; some senders use it for "received, no delta".</summary>
    ReceivedWithoutDelta = 3,
}

/// <summary>One packet's entry of a transport-wide feedback.</summary>
public readonly record struct TransportFeedbackEntry(ushort SequenceNumber, TransportFeedbackStatus Status, int DeltaTicks, long ReceiveTimeMicros)
{
    /// <summary>Receive deltas count in 250 µs ticks.</summary>
    public const int MicrosPerTick = 250;

    public bool Received => Status != TransportFeedbackStatus.NotReceived;
}

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB FMT 15):
/// base sequence number, packet status count, 24-bit reference time (64 ms units), feedback packet count,
/// run-length and status-vector chunks, then receive deltas (1 byte unsigned or 2 bytes signed, 250 µs units).
/// TryParse walks chunks and deltas once, so enumerating afterwards cannot run past the packet.
/// </summary>
public readonly ref struct RtcpTransportFeedback
{
    internal const int FixedLength = 16; // sender, media, base+count, ref time + fb count (body bytes)

    private readonly ReadOnlySpan<byte> _body;
    private readonly int _deltasOffset;

    private RtcpTransportFeedback(ReadOnlySpan<byte> body, int deltasOffset)
    {
        _body = body;
        _deltasOffset = deltasOffset;
    }

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    public uint MediaSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(4));

    public ushort BaseSequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_body.Slice(8));

    public ushort PacketStatusCount => BinaryPrimitives.ReadUInt16BigEndian(_body.Slice(10));

    /// <summary>24-bit reference time in multiples of 64 ms.</summary>
    public int ReferenceTime => (_body[12] << 16) | (_body[13] << 8) | _body[14];

    public byte FeedbackPacketCount => _body[15];

    public static bool TryParse(RtcpPacket packet, out RtcpTransportFeedback feedback)
    {
        feedback = default;
        var body = packet.Body;
        if (!packet.IsFeedback(RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.TransportWideCongestionControl) || body.Length < FixedLength)
        {
            return false;
        }

        int statusCount = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(10));
        int offset = FixedLength;
        int symbols = 0;
        int deltaBytes = 0;
        while (symbols < statusCount)
        {
            if (offset + 2 > body.Length)
            {
                return false;
            }

            ushort chunk = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(offset));
            offset += 2;
            int inChunk = ChunkSymbolCount(chunk);
            int used = Math.Min(inChunk, statusCount - symbols);
            for (int i = 0; i < used; i++)
            {
                deltaBytes += DeltaSize(ChunkSymbol(chunk, i));
            }

            symbols += used;
        }

        if (offset + deltaBytes > body.Length)
        {
            return false;
        }

        feedback = new RtcpTransportFeedback(body, offset);
        return true;
    }

    public TransportFeedbackEnumerator GetEnumerator() => new(_body, _deltasOffset, BaseSequenceNumber, PacketStatusCount, ReferenceTime);

    public static int ChunkSymbolCount(ushort chunk) =>
        (chunk & 0x8000) == 0 ? chunk & 0x1FFF : (chunk & 0x4000) == 0 ? 14 : 7;

    public static TransportFeedbackStatus ChunkSymbol(ushort chunk, int index)
    {
        if ((chunk & 0x8000) == 0)
        {
            return (TransportFeedbackStatus)((chunk >> 13) & 0x03);
        }

        return (chunk & 0x4000) == 0
            ? (TransportFeedbackStatus)((chunk >> (13 - index)) & 0x01)
            : (TransportFeedbackStatus)((chunk >> (12 - (2 * index))) & 0x03);
    }

    internal static int DeltaSize(TransportFeedbackStatus status) => status switch
    {
        TransportFeedbackStatus.ReceivedSmallDelta => 1,
        TransportFeedbackStatus.ReceivedLargeDelta => 2,
        _ => 0,
    };
}

/// <summary>Walks the packets of a parsed transport-wide feedback in sequence order.</summary>
public ref struct TransportFeedbackEnumerator
{
    private readonly ReadOnlySpan<byte> _body;
    private readonly ushort _baseSequenceNumber;
    private readonly int _statusCount;
    private int _chunkOffset;
    private int _indexInChunk;
    private int _deltaOffset;
    private int _done;
    private long _timeTicks;

    internal TransportFeedbackEnumerator(ReadOnlySpan<byte> body, int deltasOffset, ushort baseSequenceNumber, int statusCount, int referenceTime)
    {
        _body = body;
        _baseSequenceNumber = baseSequenceNumber;
        _statusCount = statusCount;
        _chunkOffset = RtcpTransportFeedback.FixedLength;
        _indexInChunk = 0;
        _deltaOffset = deltasOffset;
        _done = 0;
        _timeTicks = referenceTime * 256L; // 64 ms = 256 ticks of 250 µs
        Current = default;
    }

    public TransportFeedbackEntry Current { get; private set; }

    public bool MoveNext()
    {
        if (_done >= _statusCount)
        {
            return false;
        }

        ushort chunk = BinaryPrimitives.ReadUInt16BigEndian(_body.Slice(_chunkOffset));
        while (_indexInChunk >= RtcpTransportFeedback.ChunkSymbolCount(chunk))
        {
            _chunkOffset += 2;
            _indexInChunk = 0;
            chunk = BinaryPrimitives.ReadUInt16BigEndian(_body.Slice(_chunkOffset));
        }

        var status = RtcpTransportFeedback.ChunkSymbol(chunk, _indexInChunk++);
        int delta = 0;
        if (status == TransportFeedbackStatus.ReceivedSmallDelta)
        {
            delta = _body[_deltaOffset++];
        }
        else if (status == TransportFeedbackStatus.ReceivedLargeDelta)
        {
            delta = BinaryPrimitives.ReadInt16BigEndian(_body.Slice(_deltaOffset));
            _deltaOffset += 2;
        }

        _timeTicks += delta;
        long time = status is TransportFeedbackStatus.ReceivedSmallDelta or TransportFeedbackStatus.ReceivedLargeDelta
            ? _timeTicks * TransportFeedbackEntry.MicrosPerTick
            : 0;
        Current = new TransportFeedbackEntry((ushort)(_baseSequenceNumber + _done), status, delta, time);
        _done++;
        return true;
    }
}

/// <summary>
/// Builds one transport-wide feedback packet into a caller's span. Symbols go in sequence order; chunks are chosen
/// greedily (run length when all equal, 2-bit vectors of 7 or 1-bit vectors of 14 otherwise) and receive deltas are
/// staged in a caller's scratch span, then placed after the chunks. Padding uses the P bit, as libwebrtc does.
/// </summary>
public ref struct TransportFeedbackWriter
{
    private const int MaxRunLength = 0x1FFF;

    private readonly Span<byte> _destination;
    private readonly Span<byte> _deltas;
    private int _chunkOffset;
    private int _deltaLength;
    private int _statusCount;
    private bool _overflow;

    // Pending symbols, 2 bits each (symbol i at bits 2i), valid for the first 14.
    private uint _pending;
    private int _pendingCount;
    private bool _allSame;
    private bool _hasLarge;

    public TransportFeedbackWriter(Span<byte> destination, Span<byte> deltaScratch, uint senderSsrc, uint mediaSsrc,
        ushort baseSequenceNumber, int referenceTime, byte feedbackPacketCount)
    {
        _destination = destination;
        _deltas = deltaScratch;
        _chunkOffset = RtcpPacket.HeaderLength + RtcpTransportFeedback.FixedLength;
        _deltaLength = 0;
        _statusCount = 0;
        _pending = 0;
        _pendingCount = 0;
        _allSame = true;
        _hasLarge = false;
        _overflow = destination.Length < _chunkOffset;
        if (_overflow)
        {
            return;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), mediaSsrc);
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(12), baseSequenceNumber);
        destination[16] = (byte)(referenceTime >> 16);
        destination[17] = (byte)(referenceTime >> 8);
        destination[18] = (byte)referenceTime;
        destination[19] = feedbackPacketCount;
    }

    public readonly int StatusCount => _statusCount;

    /// <summary>Bytes the packet would take if completed now (an upper bound while symbols are pending).</summary>
    public readonly int WorstCaseLength => _chunkOffset + 4 + _deltaLength + 3;

    /// <summary>Adds a packet that did not arrive.</summary>
    public bool TryAddMissing() => TryAdd(TransportFeedbackStatus.NotReceived, 0);

    /// <summary>Adds a received packet with its delta in 250 µs ticks (0–255 small, otherwise signed 16-bit).</summary>
    public bool TryAddReceived(int deltaTicks)
    {
        if (deltaTicks is >= 0 and <= 255)
        {
            return TryAdd(TransportFeedbackStatus.ReceivedSmallDelta, deltaTicks);
        }

        return deltaTicks is >= short.MinValue and <= short.MaxValue && TryAdd(TransportFeedbackStatus.ReceivedLargeDelta, deltaTicks);
    }

    private bool TryAdd(TransportFeedbackStatus status, int delta)
    {
        int deltaSize = RtcpTransportFeedback.DeltaSize(status);
        if (_overflow || _statusCount == ushort.MaxValue || _deltaLength + deltaSize > _deltas.Length || WorstCaseLength + deltaSize + 2 > _destination.Length)
        {
            return false;
        }

        if (deltaSize == 1)
        {
            _deltas[_deltaLength] = (byte)delta;
        }
        else if (deltaSize == 2)
        {
            BinaryPrimitives.WriteInt16BigEndian(_deltas.Slice(_deltaLength), (short)delta);
        }

        _deltaLength += deltaSize;
        _statusCount++;
        AddSymbol((int)status);
        return true;
    }

    private void AddSymbol(int symbol)
    {
        while (true)
        {
            if (_pendingCount == 0)
            {
                _pending = (uint)symbol;
                _pendingCount = 1;
                _allSame = true;
                _hasLarge = symbol == 2;
                return;
            }

            if (_allSame && symbol == (int)(_pending & 0x03) && _pendingCount < MaxRunLength)
            {
                Append(symbol);
                return;
            }

            if (_pendingCount < 7 || (_pendingCount < 14 && !_hasLarge && symbol != 2))
            {
                Append(symbol);
                _allSame = false;
                _hasLarge |= symbol == 2;
                return;
            }

            if (_allSame)
            {
                EmitRunLength();
            }
            else if (_pendingCount == 7 || _pendingCount == 14)
            {
                EmitVector(_pendingCount);
            }
            else
            {
                EmitVector(7); // keep the rest pending
            }
        }
    }

    private void Append(int symbol)
    {
        if (_pendingCount < 14)
        {
            _pending |= (uint)symbol << (2 * _pendingCount);
        }

        _pendingCount++;
    }

    private void EmitRunLength()
    {
        WriteChunk((ushort)(((int)(_pending & 0x03) << 13) | _pendingCount));
        _pendingCount = 0;
    }

    // Emits the first `count` pending symbols as a vector: 2-bit for up to 7, 1-bit for up to 14 (no large deltas).
    private void EmitVector(int count)
    {
        int used = Math.Min(count, _pendingCount);
        ushort chunk;
        if (count <= 7)
        {
            chunk = 0xC000;
            for (int i = 0; i < used; i++)
            {
                chunk |= (ushort)(((_pending >> (2 * i)) & 0x03) << (12 - (2 * i)));
            }
        }
        else
        {
            chunk = 0x8000;
            for (int i = 0; i < used; i++)
            {
                chunk |= (ushort)(((_pending >> (2 * i)) & 0x01) << (13 - i));
            }
        }

        WriteChunk(chunk);
        _pendingCount -= used;
        _pending = used >= 16 ? 0 : _pending >> (2 * used);
        if (_pendingCount > 0)
        {
            int first = (int)(_pending & 0x03);
            _allSame = true;
            _hasLarge = false;
            for (int i = 0; i < _pendingCount; i++)
            {
                int s = (int)((_pending >> (2 * i)) & 0x03);
                _allSame &= s == first;
                _hasLarge |= s == 2;
            }
        }
    }

    private void WriteChunk(ushort chunk)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_destination.Slice(_chunkOffset), chunk);
        _chunkOffset += 2;
    }

    /// <summary>Flushes pending symbols, places the deltas, pads and writes the header. False when empty or too big.</summary>
    public bool TryComplete(out int length)
    {
        length = 0;
        if (_overflow || _statusCount == 0)
        {
            return false;
        }

        if (_pendingCount > 0)
        {
            if (_allSame)
            {
                EmitRunLength();
            }
            else
            {
                EmitVector(_pendingCount <= 7 ? 7 : 14);
            }
        }

        _deltas.Slice(0, _deltaLength).CopyTo(_destination.Slice(_chunkOffset));
        int used = _chunkOffset + _deltaLength;
        int total = (used + 3) & ~3;
        int padding = total - used;
        BinaryPrimitives.WriteUInt16BigEndian(_destination.Slice(14), (ushort)_statusCount);
        RtcpPacket.WriteHeader(_destination, RtcpFeedbackFormat.TransportWideCongestionControl, RtcpPacketType.TransportFeedback, total);
        if (padding > 0)
        {
            _destination.Slice(used, padding - 1).Clear();
            _destination[total - 1] = (byte)padding;
            _destination[0] |= 0x20;
        }

        length = total;
        _overflow = true; // completed once
        return true;
    }
}
