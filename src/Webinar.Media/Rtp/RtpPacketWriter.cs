using System.Buffers.Binary;

namespace Webinar.Media.Rtp;

/// <summary>
/// Builds an RTP packet into a caller's span: header, optional CSRCs, RFC 8285 extensions (added or replaced by
/// id, in any order), payload. The one-byte profile is chosen when every element allows it (ids 1–14, 1–16 bytes),
/// the two-byte profile otherwise. Elements are staged inside the destination, so nothing is allocated.
/// </summary>
public ref struct RtpPacketWriter
{
    private readonly Span<byte> _destination;
    private int _csrcCount;
    private int _stagedLength; // bytes of staged two-byte-form elements
    private bool _failed;

    public RtpPacketWriter(Span<byte> destination, bool marker, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc)
    {
        _destination = destination;
        _csrcCount = 0;
        _stagedLength = 0;
        _failed = destination.Length < RtpPacket.FixedHeaderLength || payloadType > 127;
        if (_failed)
        {
            return;
        }

        destination[0] = 0x80;
        destination[1] = (byte)((marker ? 0x80 : 0) | payloadType);
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(8), ssrc);
    }

    private readonly int StageOffset => RtpPacket.FixedHeaderLength + (_csrcCount * 4) + 4;

    /// <summary>Adds a contributing source; only before any extension, at most 15.</summary>
    public bool AddCsrc(uint csrc)
    {
        int offset = RtpPacket.FixedHeaderLength + (_csrcCount * 4);
        if (_failed || _stagedLength != 0 || _csrcCount == 15 || offset + 4 > _destination.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(_destination.Slice(offset), csrc);
        _csrcCount++;
        return true;
    }

    /// <summary>Adds an element, or replaces the value of an element with the same id already added.</summary>
    public bool SetExtension(byte id, scoped ReadOnlySpan<byte> value)
    {
        if (_failed || id == 0 || value.Length > 255)
        {
            return false;
        }

        var staged = _destination.Slice(StageOffset, _stagedLength);
        int position = 0;
        while (position < staged.Length)
        {
            int length = staged[position + 1];
            if (staged[position] == id)
            {
                if (length == value.Length)
                {
                    value.CopyTo(staged.Slice(position + 2));
                    return true;
                }

                int end = position + 2 + length;
                staged.Slice(end).CopyTo(staged.Slice(position));
                _stagedLength -= 2 + length;
                break;
            }

            position += 2 + length;
        }

        int at = StageOffset + _stagedLength;
        if (at + 2 + value.Length > _destination.Length)
        {
            return false;
        }

        _destination[at] = id;
        _destination[at + 1] = (byte)value.Length;
        value.CopyTo(_destination.Slice(at + 2));
        _stagedLength += 2 + value.Length;
        return true;
    }

    /// <summary>
    /// Finishes the packet with the payload (which must not overlap the destination) and optional padding
    /// (0 or 1–255 bytes). Returns false when it does not fit.
    /// </summary>
    public bool TryComplete(scoped ReadOnlySpan<byte> payload, out int length, int paddingLength = 0)
    {
        length = 0;
        if (_failed || paddingLength < 0 || paddingLength > 255)
        {
            return false;
        }

        int headerEnd = RtpPacket.FixedHeaderLength + (_csrcCount * 4);
        _destination[0] = (byte)(0x80 | _csrcCount);
        if (_stagedLength > 0)
        {
            int dataLength = CompactExtensions(out ushort profile);
            int padded = (dataLength + 3) & ~3;
            int dataStart = headerEnd + 4;
            if (dataStart + padded > _destination.Length)
            {
                return false;
            }

            _destination.Slice(dataStart + dataLength, padded - dataLength).Clear();
            BinaryPrimitives.WriteUInt16BigEndian(_destination.Slice(headerEnd), profile);
            BinaryPrimitives.WriteUInt16BigEndian(_destination.Slice(headerEnd + 2), (ushort)(padded / 4));
            _destination[0] |= 0x10;
            headerEnd = dataStart + padded;
        }

        int total = headerEnd + payload.Length + paddingLength;
        if (total > _destination.Length)
        {
            return false;
        }

        payload.CopyTo(_destination.Slice(headerEnd));
        if (paddingLength > 0)
        {
            _destination.Slice(headerEnd + payload.Length, paddingLength - 1).Clear();
            _destination[total - 1] = (byte)paddingLength;
            _destination[0] |= 0x20;
        }

        length = total;
        return true;
    }

    // Rewrites the staged two-byte elements in place as one-byte elements when all of them allow it.
    private readonly int CompactExtensions(out ushort profile)
    {
        var staged = _destination.Slice(StageOffset, _stagedLength);
        bool oneByte = true;
        for (int position = 0; position < staged.Length; position += 2 + staged[position + 1])
        {
            int length = staged[position + 1];
            if (staged[position] > 14 || length == 0 || length > 16)
            {
                oneByte = false;
                break;
            }
        }

        if (!oneByte)
        {
            profile = RtpPacket.TwoByteExtensionProfile;
            return _stagedLength;
        }

        profile = RtpPacket.OneByteExtensionProfile;
        int read = 0;
        int write = 0;
        while (read < staged.Length)
        {
            byte id = staged[read];
            int length = staged[read + 1];
            staged[write] = (byte)((id << 4) | (length - 1));
            staged.Slice(read + 2, length).CopyTo(staged.Slice(write + 1));
            read += 2 + length;
            write += 1 + length;
        }

        return write;
    }
}
