using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Webinar.Media.Stun;

/// <summary>One attribute of a parsed STUN message: its type and its value without padding.</summary>
public readonly ref struct StunAttribute
{
    public StunAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = value;
    }

    public ushort Type { get; }

    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>
/// A validated, zero-copy view of a STUN message (RFC 8489). <see cref="TryParse"/> checks the header, the
/// attribute framing, and the placement of MESSAGE-INTEGRITY and FINGERPRINT once, so every accessor afterwards
/// is bounds-safe. The view borrows the caller's bytes; it is only valid while they are.
/// </summary>
public readonly ref struct StunMessage
{
    private const int MaxStackHashInput = 1024;

    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _integrityOffset;
    private readonly int _fingerprintOffset;

    private StunMessage(ReadOnlySpan<byte> bytes, int integrityOffset, int fingerprintOffset)
    {
        _bytes = bytes;
        _integrityOffset = integrityOffset;
        _fingerprintOffset = fingerprintOffset;
    }

    /// <summary>The whole message as received.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    public ushort MessageType => BinaryPrimitives.ReadUInt16BigEndian(_bytes);

    public StunClass Class => StunConstants.ClassOf(MessageType);

    public StunMethod Method => StunConstants.MethodOf(MessageType);

    public ReadOnlySpan<byte> TransactionId => _bytes.Slice(8, StunConstants.TransactionIdLength);

    public bool HasMessageIntegrity => _integrityOffset >= 0;

    public bool HasFingerprint => _fingerprintOffset >= 0;

    /// <summary>
    /// Parses <paramref name="datagram"/> as exactly one STUN message. Returns false for anything malformed;
    /// never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out StunMessage message)
    {
        message = default;
        if (datagram.Length < StunConstants.HeaderLength || (datagram[0] & 0xC0) != 0)
        {
            return false;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(datagram.Slice(4)) != StunConstants.MagicCookie)
        {
            return false;
        }

        int bodyLength = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(2));
        if ((bodyLength & 3) != 0 || StunConstants.HeaderLength + bodyLength != datagram.Length)
        {
            return false;
        }

        int integrityOffset = -1;
        int fingerprintOffset = -1;
        int offset = StunConstants.HeaderLength;
        while (offset < datagram.Length)
        {
            if (fingerprintOffset >= 0 || datagram.Length - offset < 4)
            {
                return false; // FINGERPRINT must be last; a truncated attribute header is malformed.
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(offset));
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(offset + 2));
            int padded = (valueLength + 3) & ~3;
            if (padded > datagram.Length - offset - 4)
            {
                return false;
            }

            if (type == StunAttributeType.MessageIntegrity && integrityOffset < 0)
            {
                if (valueLength != StunConstants.MessageIntegrityLength)
                {
                    return false;
                }

                integrityOffset = offset;
            }
            else if (type == StunAttributeType.Fingerprint)
            {
                if (valueLength != StunConstants.FingerprintLength)
                {
                    return false;
                }

                fingerprintOffset = offset;
            }

            offset += 4 + padded;
        }

        message = new StunMessage(datagram, integrityOffset, fingerprintOffset);
        return true;
    }

    /// <summary>Iterates every attribute in wire order, including those after MESSAGE-INTEGRITY.</summary>
    public StunAttributeEnumerator GetEnumerator() => new(_bytes);

    /// <summary>
    /// Finds the first attribute of <paramref name="type"/>. Attributes after MESSAGE-INTEGRITY are ignored
    /// (RFC 8489 §14.5) except FINGERPRINT.
    /// </summary>
    public bool TryGetAttribute(ushort type, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (type == StunAttributeType.Fingerprint)
        {
            if (_fingerprintOffset < 0)
            {
                return false;
            }

            value = _bytes.Slice(_fingerprintOffset + 4, StunConstants.FingerprintLength);
            return true;
        }

        int end = _integrityOffset >= 0 && type != StunAttributeType.MessageIntegrity
            ? _integrityOffset
            : _bytes.Length;
        int offset = StunConstants.HeaderLength;
        while (offset < end)
        {
            ushort attributeType = BinaryPrimitives.ReadUInt16BigEndian(_bytes.Slice(offset));
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(_bytes.Slice(offset + 2));
            if (attributeType == type)
            {
                value = _bytes.Slice(offset + 4, valueLength);
                return true;
            }

            offset += 4 + ((valueLength + 3) & ~3);
        }

        return false;
    }

    public bool HasAttribute(ushort type) => TryGetAttribute(type, out _);

    public bool TryGetUsername(out ReadOnlySpan<byte> username) =>
        TryGetAttribute(StunAttributeType.Username, out username);

    public bool TryGetPriority(out uint priority) => TryGetUInt32(StunAttributeType.Priority, out priority);

    public bool TryGetIceControlling(out ulong tieBreaker) =>
        TryGetUInt64(StunAttributeType.IceControlling, out tieBreaker);

    public bool TryGetIceControlled(out ulong tieBreaker) =>
        TryGetUInt64(StunAttributeType.IceControlled, out tieBreaker);

    public bool TryGetUInt32(ushort type, out uint value)
    {
        value = 0;
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> raw) || raw.Length != 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(raw);
        return true;
    }

    public bool TryGetUInt64(ushort type, out ulong value)
    {
        value = 0;
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> raw) || raw.Length != 8)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt64BigEndian(raw);
        return true;
    }

    /// <summary>Reads ERROR-CODE: the numeric code (300–699) and the UTF-8 reason phrase.</summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason)
    {
        code = 0;
        reason = default;
        if (!TryGetAttribute(StunAttributeType.ErrorCode, out ReadOnlySpan<byte> raw) || raw.Length < 4)
        {
            return false;
        }

        int errorClass = raw[2] & 0x07;
        int number = raw[3];
        if (errorClass < 3 || errorClass > 6 || number > 99)
        {
            return false;
        }

        code = (errorClass * 100) + number;
        reason = raw.Slice(4);
        return true;
    }

    /// <summary>
    /// Decodes XOR-MAPPED-ADDRESS into <paramref name="address"/> (at least 16 bytes): 4 bytes for IPv4, 16 for IPv6.
    /// </summary>
    public bool TryGetXorMappedAddress(Span<byte> address, out int addressLength, out ushort port)
    {
        addressLength = 0;
        port = 0;
        if (!TryGetAttribute(StunAttributeType.XorMappedAddress, out ReadOnlySpan<byte> raw) || raw.Length < 8)
        {
            return false;
        }

        byte family = raw[1];
        int length = family switch
        {
            StunConstants.FamilyIPv4 => 4,
            StunConstants.FamilyIPv6 => 16,
            _ => -1,
        };
        if (length < 0 || raw.Length != 4 + length || address.Length < length)
        {
            return false;
        }

        port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(raw.Slice(2)) ^ (StunConstants.MagicCookie >> 16));
        ReadOnlySpan<byte> mask = _bytes.Slice(4, 16); // magic cookie followed by the transaction id
        for (int i = 0; i < length; i++)
        {
            address[i] = (byte)(raw[4 + i] ^ mask[i]);
        }

        addressLength = length;
        return true;
    }

    /// <summary>Allocating convenience for control paths: XOR-MAPPED-ADDRESS as an <see cref="IPEndPoint"/>.</summary>
    public bool TryGetXorMappedAddress(out IPEndPoint? endpoint)
    {
        endpoint = null;
        Span<byte> address = stackalloc byte[16];
        if (!TryGetXorMappedAddress(address, out int length, out ushort port))
        {
            return false;
        }

        endpoint = new IPEndPoint(new IPAddress(address.Slice(0, length)), port);
        return true;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) with a short-term credential key (the ICE password).
    /// False when the attribute is absent or does not match.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key)
    {
        if (_integrityOffset < 0)
        {
            return false;
        }

        int coveredLength = _integrityOffset;
        byte[]? rented = null;
        Span<byte> input = coveredLength <= MaxStackHashInput
            ? stackalloc byte[MaxStackHashInput]
            : (rented = ArrayPool<byte>.Shared.Rent(coveredLength));
        try
        {
            input = input.Slice(0, coveredLength);
            _bytes.Slice(0, coveredLength).CopyTo(input);
            // The length field covers everything up to and including MESSAGE-INTEGRITY itself.
            int adjusted = coveredLength - StunConstants.HeaderLength + 4 + StunConstants.MessageIntegrityLength;
            BinaryPrimitives.WriteUInt16BigEndian(input.Slice(2), (ushort)adjusted);

            Span<byte> mac = stackalloc byte[StunConstants.MessageIntegrityLength];
            HMACSHA1.HashData(key, input, mac);
            ReadOnlySpan<byte> received = _bytes.Slice(_integrityOffset + 4, StunConstants.MessageIntegrityLength);
            return CryptographicOperations.FixedTimeEquals(mac, received);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Checks FINGERPRINT (CRC-32 of the preceding message xor 0x5354554E). False when absent.</summary>
    public bool VerifyFingerprint()
    {
        if (_fingerprintOffset < 0)
        {
            return false;
        }

        uint expected = StunCrc32.Compute(_bytes.Slice(0, _fingerprintOffset)) ^ StunConstants.FingerprintXor;
        return BinaryPrimitives.ReadUInt32BigEndian(_bytes.Slice(_fingerprintOffset + 4)) == expected;
    }
}

/// <summary>Allocation-free iterator over the attributes of a validated <see cref="StunMessage"/>.</summary>
public ref struct StunAttributeEnumerator
{
    private readonly ReadOnlySpan<byte> _bytes;
    private int _next;
    private StunAttribute _current;

    internal StunAttributeEnumerator(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes;
        _next = StunConstants.HeaderLength;
        _current = default;
    }

    public readonly StunAttribute Current => _current;

    public bool MoveNext()
    {
        if (_next + 4 > _bytes.Length)
        {
            return false;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(_bytes.Slice(_next));
        int valueLength = BinaryPrimitives.ReadUInt16BigEndian(_bytes.Slice(_next + 2));
        _current = new StunAttribute(type, _bytes.Slice(_next + 4, valueLength));
        _next += 4 + ((valueLength + 3) & ~3);
        return true;
    }
}
