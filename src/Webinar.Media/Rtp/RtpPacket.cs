using System.Buffers.Binary;

namespace Webinar.Media.Rtp;

/// <summary>
/// A validated view over one RTP packet (RFC 3550 §5.1) held in a caller's buffer. Getters read the header,
/// setters rewrite it in place; nothing is copied. Header extensions follow RFC 8285 (one-byte 0xBEDE and
/// two-byte 0x100X profiles).
/// </summary>
public readonly ref struct RtpPacket
{
    public const int FixedHeaderLength = 12;
    public const ushort OneByteExtensionProfile = 0xBEDE;
    public const ushort TwoByteExtensionProfile = 0x1000;

    private readonly Span<byte> _buffer;
    private readonly int _extensionDataOffset; // first byte after the 4-byte extension header, or -1
    private readonly int _extensionDataLength;
    private readonly int _payloadOffset;
    private readonly int _payloadLength;

    private RtpPacket(Span<byte> buffer, int extensionDataOffset, int extensionDataLength, int payloadOffset, int payloadLength)
    {
        _buffer = buffer;
        _extensionDataOffset = extensionDataOffset;
        _extensionDataLength = extensionDataLength;
        _payloadOffset = payloadOffset;
        _payloadLength = payloadLength;
    }

    /// <summary>Validates version, CSRC count, extension length and padding; false for anything malformed.</summary>
    public static bool TryParse(Span<byte> buffer, out RtpPacket packet)
    {
        packet = default;
        if (buffer.Length < FixedHeaderLength || (buffer[0] >> 6) != 2)
        {
            return false;
        }

        int offset = FixedHeaderLength + ((buffer[0] & 0x0F) * 4);
        if (offset > buffer.Length)
        {
            return false;
        }

        int extensionDataOffset = -1;
        int extensionDataLength = 0;
        if ((buffer[0] & 0x10) != 0)
        {
            if (offset + 4 > buffer.Length)
            {
                return false;
            }

            extensionDataLength = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(offset + 2)) * 4;
            extensionDataOffset = offset + 4;
            offset = extensionDataOffset + extensionDataLength;
            if (offset > buffer.Length)
            {
                return false;
            }
        }

        int paddingLength = 0;
        if ((buffer[0] & 0x20) != 0)
        {
            paddingLength = buffer[^1];
            if (paddingLength == 0 || offset + paddingLength > buffer.Length)
            {
                return false;
            }
        }

        packet = new RtpPacket(buffer, extensionDataOffset, extensionDataLength, offset, buffer.Length - offset - paddingLength);
        return true;
    }

    /// <summary>The whole packet, header, payload and padding.</summary>
    public Span<byte> Buffer => _buffer;

    public int Length => _buffer.Length;

    public int HeaderLength => _payloadOffset;

    public bool HasPadding => (_buffer[0] & 0x20) != 0;

    public int PaddingLength => _buffer.Length - _payloadOffset - _payloadLength;

    public bool HasExtension => _extensionDataOffset >= 0;

    public int CsrcCount => _buffer[0] & 0x0F;

    public bool Marker
    {
        get => (_buffer[1] & 0x80) != 0;
        set => _buffer[1] = (byte)(value ? _buffer[1] | 0x80 : _buffer[1] & 0x7F);
    }

    public byte PayloadType
    {
        get => (byte)(_buffer[1] & 0x7F);
        set => _buffer[1] = (byte)((_buffer[1] & 0x80) | (value & 0x7F));
    }

    public ushort SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(2));
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(2), value);
    }

    public uint Timestamp
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(4));
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(4), value);
    }

    public uint Ssrc
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(8));
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(8), value);
    }

    public uint GetCsrc(int index)
    {
        if ((uint)index >= (uint)CsrcCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        return BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(FixedHeaderLength + (index * 4)));
    }

    /// <summary>The payload, without header, extensions or padding.</summary>
    public Span<byte> Payload => _buffer.Slice(_payloadOffset, _payloadLength);

    /// <summary>The extension profile (0xBEDE, 0x100X or another), 0 when there is no extension block.</summary>
    public ushort ExtensionProfile =>
        _extensionDataOffset < 0 ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(_extensionDataOffset - 4));

    /// <summary>The raw extension block after its 4-byte header (for iteration with <see cref="RtpHeaderExtensionReader"/>).</summary>
    public Span<byte> ExtensionData => _extensionDataOffset < 0 ? Span<byte>.Empty : _buffer.Slice(_extensionDataOffset, _extensionDataLength);

    public RtpHeaderExtensionReader Extensions => new(ExtensionProfile, ExtensionData);

    /// <summary>Finds an RFC 8285 element by id; the value is a view into the packet.</summary>
    public bool TryGetExtension(byte id, out Span<byte> value)
    {
        var reader = Extensions;
        while (reader.TryReadNext(out byte elementId, out value))
        {
            if (elementId == id)
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Overwrites the value of an existing element of the same length; false when absent or of another length.</summary>
    public bool TrySetExtension(byte id, scoped ReadOnlySpan<byte> value)
    {
        if (!TryGetExtension(id, out var current) || current.Length != value.Length)
        {
            return false;
        }

        value.CopyTo(current);
        return true;
    }
}

/// <summary>Iterates the elements of an RFC 8285 extension block. Unknown profiles yield nothing.</summary>
public ref struct RtpHeaderExtensionReader
{
    private readonly Span<byte> _data;
    private readonly bool _oneByte;
    private readonly bool _twoByte;
    private int _offset;

    public RtpHeaderExtensionReader(ushort profile, Span<byte> data)
    {
        _data = data;
        _oneByte = profile == RtpPacket.OneByteExtensionProfile;
        _twoByte = (profile & 0xFFF0) == RtpPacket.TwoByteExtensionProfile;
        _offset = 0;
    }

    public bool TryReadNext(out byte id, out Span<byte> value)
    {
        while (_offset < _data.Length)
        {
            byte first = _data[_offset];
            if (first == 0)
            {
                _offset++; // padding byte between elements
                continue;
            }

            if (_oneByte)
            {
                id = (byte)(first >> 4);
                int length = (first & 0x0F) + 1;
                if (id == 15 || _offset + 1 + length > _data.Length)
                {
                    break; // id 15 ends processing (RFC 8285 §4.2); truncation is malformed
                }

                value = _data.Slice(_offset + 1, length);
                _offset += 1 + length;
                return true;
            }

            if (_twoByte)
            {
                if (_offset + 2 > _data.Length)
                {
                    break;
                }

                id = first;
                int length = _data[_offset + 1];
                if (_offset + 2 + length > _data.Length)
                {
                    break;
                }

                value = _data.Slice(_offset + 2, length);
                _offset += 2 + length;
                return true;
            }

            break;
        }

        _offset = _data.Length;
        id = 0;
        value = default;
        return false;
    }
}
