using System.Buffers.Binary;

namespace Webinar.Media.Rtcp;

/// <summary>
/// Source description (RFC 3550 §6.5). The reader yields, per chunk, the SSRC and its CNAME (empty when the chunk has
/// none); the writer emits one chunk with a CNAME item.
/// </summary>
public ref struct RtcpSourceDescriptionReader
{
    private const byte EndItem = 0;
    private const byte CnameItem = 1;

    private readonly ReadOnlySpan<byte> _body;
    private readonly int _chunkCount;
    private int _offset;
    private int _chunksRead;

    private RtcpSourceDescriptionReader(ReadOnlySpan<byte> body, int chunkCount)
    {
        _body = body;
        _chunkCount = chunkCount;
        _offset = 0;
        _chunksRead = 0;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    public static bool TryCreate(RtcpPacket packet, out RtcpSourceDescriptionReader reader)
    {
        reader = default;
        if (packet.PacketType != RtcpPacketType.SourceDescription)
        {
            return false;
        }

        reader = new RtcpSourceDescriptionReader(packet.Body, packet.Count);
        return true;
    }

    public bool TryReadNextChunk(out uint ssrc, out ReadOnlySpan<byte> cname)
    {
        ssrc = 0;
        cname = default;
        if (IsMalformed || _chunksRead >= _chunkCount)
        {
            return false;
        }

        if (_offset + 4 > _body.Length)
        {
            IsMalformed = true;
            return false;
        }

        ssrc = BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(_offset));
        int position = _offset + 4;
        while (true)
        {
            if (position >= _body.Length)
            {
                IsMalformed = true;
                return false;
            }

            byte type = _body[position];
            if (type == EndItem)
            {
                position++;
                break;
            }

            if (position + 2 > _body.Length || position + 2 + _body[position + 1] > _body.Length)
            {
                IsMalformed = true;
                return false;
            }

            int length = _body[position + 1];
            if (type == CnameItem)
            {
                cname = _body.Slice(position + 2, length);
            }

            position += 2 + length;
        }

        _offset = (position + 3) & ~3; // chunks end on a 32-bit boundary
        _chunksRead++;
        return true;
    }

    /// <summary>Writes an SDES packet with one chunk holding a CNAME (at most 255 bytes of UTF-8).</summary>
    public static bool TryWriteCname(Span<byte> destination, uint ssrc, ReadOnlySpan<byte> cname, out int length)
    {
        length = 0;
        if (cname.Length > 255)
        {
            return false;
        }

        int itemsEnd = RtcpPacket.HeaderLength + 4 + 2 + cname.Length + 1; // at least one null octet ends the list
        int total = (itemsEnd + 3) & ~3;
        if (destination.Length < total)
        {
            return false;
        }

        RtcpPacket.WriteHeader(destination, 1, RtcpPacketType.SourceDescription, total);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), ssrc);
        destination[8] = CnameItem;
        destination[9] = (byte)cname.Length;
        cname.CopyTo(destination.Slice(10));
        destination.Slice(10 + cname.Length, total - 10 - cname.Length).Clear();
        length = total;
        return true;
    }
}

/// <summary>Goodbye (RFC 3550 §6.6): the SSRCs leaving and an optional reason.</summary>
public readonly ref struct RtcpGoodbye
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpGoodbye(ReadOnlySpan<byte> body, int count, ReadOnlySpan<byte> reason)
    {
        _body = body;
        SsrcCount = count;
        Reason = reason;
    }

    public int SsrcCount { get; }

    public ReadOnlySpan<byte> Reason { get; }

    public uint GetSsrc(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)SsrcCount, nameof(index));
        return BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(index * 4));
    }

    public static bool TryParse(RtcpPacket packet, out RtcpGoodbye goodbye)
    {
        goodbye = default;
        var body = packet.Body;
        int ssrcBytes = packet.Count * 4;
        if (packet.PacketType != RtcpPacketType.Goodbye || body.Length < ssrcBytes)
        {
            return false;
        }

        ReadOnlySpan<byte> reason = default;
        if (body.Length > ssrcBytes)
        {
            int reasonLength = body[ssrcBytes];
            if (ssrcBytes + 1 + reasonLength > body.Length)
            {
                return false;
            }

            reason = body.Slice(ssrcBytes + 1, reasonLength);
        }

        goodbye = new RtcpGoodbye(body, packet.Count, reason);
        return true;
    }

    public static bool TryWrite(Span<byte> destination, ReadOnlySpan<uint> ssrcs, ReadOnlySpan<byte> reason, out int length)
    {
        length = 0;
        if (ssrcs.Length > 31 || reason.Length > 255)
        {
            return false;
        }

        int used = RtcpPacket.HeaderLength + (ssrcs.Length * 4) + (reason.IsEmpty ? 0 : 1 + reason.Length);
        int total = (used + 3) & ~3;
        if (destination.Length < total)
        {
            return false;
        }

        RtcpPacket.WriteHeader(destination, ssrcs.Length, RtcpPacketType.Goodbye, total);
        for (int i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4 + (i * 4)), ssrcs[i]);
        }

        int at = 4 + (ssrcs.Length * 4);
        if (!reason.IsEmpty)
        {
            destination[at] = (byte)reason.Length;
            reason.CopyTo(destination.Slice(at + 1));
        }

        destination.Slice(used, total - used).Clear();
        length = total;
        return true;
    }
}
