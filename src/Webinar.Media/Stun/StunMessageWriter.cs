using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Webinar.Media.Stun;

/// <summary>
/// Builds one STUN message into a caller-supplied buffer without allocating. Attributes are appended in call
/// order; <see cref="AddMessageIntegrity"/> and then <see cref="AddFingerprint"/> must come last. If the buffer runs
/// out, further calls do nothing and <see cref="TryComplete"/> returns false.
/// </summary>
public ref struct StunMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;
    private bool _overflowed;

    public StunMessageWriter(Span<byte> buffer, StunClass stunClass, StunMethod method, ReadOnlySpan<byte> transactionId)
    {
        if (transactionId.Length != StunConstants.TransactionIdLength)
        {
            throw new ArgumentException("A STUN transaction id is 12 bytes.", nameof(transactionId));
        }

        _buffer = buffer;
        _length = 0;
        _overflowed = buffer.Length < StunConstants.HeaderLength;
        if (_overflowed)
        {
            return;
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer, StunConstants.ComposeType(stunClass, method));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.Slice(2), 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.Slice(4), StunConstants.MagicCookie);
        transactionId.CopyTo(buffer.Slice(8));
        _length = StunConstants.HeaderLength;
    }

    /// <summary>
    /// The byte attribute padding is filled with (RFC 8489 lets it be anything; zero by default). Settable so the
    /// RFC 5769 vectors, padded with spaces, can be reproduced byte for byte.
    /// </summary>
    internal byte PaddingByte { readonly get; init; }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    public readonly bool Overflowed => _overflowed;

    /// <summary>Returns the message length, or false when the buffer was too small for what was added.</summary>
    public readonly bool TryComplete(out int length)
    {
        length = _overflowed ? 0 : _length;
        return !_overflowed;
    }

    public void AddAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        Span<byte> slot = Reserve(type, value.Length);
        if (slot.Length == value.Length)
        {
            value.CopyTo(slot);
        }
    }

    public void AddUsername(scoped ReadOnlySpan<byte> utf8Username) => AddAttribute(StunAttributeType.Username, utf8Username);

    public void AddPriority(uint priority)
    {
        Span<byte> slot = Reserve(StunAttributeType.Priority, 4);
        if (!slot.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32BigEndian(slot, priority);
        }
    }

    public void AddUseCandidate() => Reserve(StunAttributeType.UseCandidate, 0);

    public void AddIceControlling(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlling, tieBreaker);

    public void AddIceControlled(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlled, tieBreaker);

    /// <summary>ERROR-CODE with a code in 300–699 and a short UTF-8 reason phrase.</summary>
    public void AddErrorCode(int code, scoped ReadOnlySpan<byte> utf8Reason)
    {
        if (code is < 300 or > 699)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "STUN error codes are 300-699.");
        }

        Span<byte> slot = Reserve(StunAttributeType.ErrorCode, 4 + utf8Reason.Length);
        if (slot.IsEmpty)
        {
            return;
        }

        slot[0] = 0;
        slot[1] = 0;
        slot[2] = (byte)(code / 100);
        slot[3] = (byte)(code % 100);
        utf8Reason.CopyTo(slot.Slice(4));
    }

    /// <summary>XOR-MAPPED-ADDRESS from raw address bytes (4 for IPv4, 16 for IPv6) and a port.</summary>
    public void AddXorMappedAddress(scoped ReadOnlySpan<byte> address, ushort port)
    {
        byte family = address.Length switch
        {
            4 => StunConstants.FamilyIPv4,
            16 => StunConstants.FamilyIPv6,
            _ => throw new ArgumentException("An IP address is 4 or 16 bytes.", nameof(address)),
        };
        Span<byte> slot = Reserve(StunAttributeType.XorMappedAddress, 4 + address.Length);
        if (slot.IsEmpty)
        {
            return;
        }

        slot[0] = 0;
        slot[1] = family;
        BinaryPrimitives.WriteUInt16BigEndian(slot.Slice(2), (ushort)(port ^ (StunConstants.MagicCookie >> 16)));
        ReadOnlySpan<byte> mask = _buffer.Slice(4, 16); // magic cookie followed by the transaction id
        for (int i = 0; i < address.Length; i++)
        {
            slot[4 + i] = (byte)(address[i] ^ mask[i]);
        }
    }

    /// <summary>XOR-MAPPED-ADDRESS for the address a datagram came from (no allocation).</summary>
    public void AddXorMappedAddress(SocketAddress source)
    {
        Span<byte> address = stackalloc byte[16];
        if (!SocketAddressBytes.TryRead(source, address, out int length, out ushort port))
        {
            throw new ArgumentException("Only IPv4 and IPv6 socket addresses can be mapped.", nameof(source));
        }

        AddXorMappedAddress(address.Slice(0, length), port);
    }

    public void AddXorMappedAddress(IPEndPoint source)
    {
        Span<byte> address = stackalloc byte[16];
        if (!SocketAddressBytes.TryRead(source, address, out int length, out ushort port))
        {
            throw new ArgumentException("Only IPv4 and IPv6 endpoints can be mapped.", nameof(source));
        }

        AddXorMappedAddress(address.Slice(0, length), port);
    }

    /// <summary>MESSAGE-INTEGRITY: HMAC-SHA1 keyed with the short-term password over everything written so far.</summary>
    public void AddMessageIntegrity(scoped ReadOnlySpan<byte> key)
    {
        int covered = _length;
        Span<byte> slot = Reserve(StunAttributeType.MessageIntegrity, StunConstants.MessageIntegrityLength);
        if (slot.IsEmpty)
        {
            return;
        }

        // Reserve already set the header length to include this attribute, as the HMAC requires.
        HMACSHA1.HashData(key, _buffer.Slice(0, covered), slot);
    }

    /// <summary>FINGERPRINT: CRC-32 of everything written so far, xor 0x5354554E. Must be the last attribute.</summary>
    public void AddFingerprint()
    {
        int covered = _length;
        Span<byte> slot = Reserve(StunAttributeType.Fingerprint, StunConstants.FingerprintLength);
        if (slot.IsEmpty)
        {
            return;
        }

        uint crc = StunCrc32.Compute(_buffer.Slice(0, covered)) ^ StunConstants.FingerprintXor;
        BinaryPrimitives.WriteUInt32BigEndian(slot, crc);
    }

    private void AddUInt64(ushort type, ulong value)
    {
        Span<byte> slot = Reserve(type, 8);
        if (!slot.IsEmpty)
        {
            BinaryPrimitives.WriteUInt64BigEndian(slot, value);
        }
    }

    /// <summary>
    /// Writes the attribute header and zero padding, updates the message length, and returns the value slot
    /// (empty on overflow; also empty for a zero-length value, which callers treat the same way).
    /// </summary>
    private Span<byte> Reserve(ushort type, int valueLength)
    {
        int padded = (valueLength + 3) & ~3;
        if (_overflowed || valueLength > ushort.MaxValue || _buffer.Length - _length < 4 + padded
            || _length - StunConstants.HeaderLength + 4 + padded > ushort.MaxValue)
        {
            _overflowed = true;
            return Span<byte>.Empty;
        }

        Span<byte> attribute = _buffer.Slice(_length, 4 + padded);
        BinaryPrimitives.WriteUInt16BigEndian(attribute, type);
        BinaryPrimitives.WriteUInt16BigEndian(attribute.Slice(2), (ushort)valueLength);
        attribute.Slice(4 + valueLength).Fill(PaddingByte);
        _length += 4 + padded;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(2), (ushort)(_length - StunConstants.HeaderLength));
        return attribute.Slice(4, valueLength);
    }
}
