using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Webinar.Media.Srtp;

/// <summary>
/// AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714): 12-byte IV from the salt, SSRC and index (§8.1, §9.1),
/// the RTP header (or the SRTCP header and E||index) as associated data, a 16-byte tag. Protecting uses
/// <see cref="AesGcm"/>. Unprotecting checks the tag itself first (<see cref="GcmHash"/> and one AES block for E_K(J0))
/// and then decrypts in counter mode, so a forged packet costs a hash and a comparison, not an exception as
/// <see cref="AesGcm.Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, ReadOnlySpan{byte})"/>
/// throws. On a CPU without carry-less multiplication it falls back to AesGcm for unprotect too.
/// </summary>
internal sealed class AesGcmTransform : SrtpTransform
{
    private const int TagLength = 16;
    private const int IvLength = 12;
    private const int RtcpHeaderLength = 8;

    private readonly AesGcm _rtp;
    private readonly AesGcm _rtcp;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;
    private readonly GcmCheck? _rtpCheck;
    private readonly GcmCheck? _rtcpCheck;

    public AesGcmTransform(SrtpSessionKeys keys)
    {
        _rtp = new AesGcm(keys.RtpCipherKey, TagLength);
        _rtcp = new AesGcm(keys.RtcpCipherKey, TagLength);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
        if (GcmHash.IsAccelerated)
        {
            _rtpCheck = new GcmCheck(keys.RtpCipherKey);
            _rtcpCheck = new GcmCheck(keys.RtcpCipherKey);
        }
    }

    public override int RtpTagLength => TagLength;

    public override int RtcpTagLength => TagLength;

    public override void ProtectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index)
    {
        Span<byte> iv = stackalloc byte[IvLength];
        BuildRtpIv(_rtpSalt, ssrc, index, iv);
        Span<byte> payload = packet.Slice(headerLength, length - headerLength);
        _rtp.Encrypt(iv, payload, payload, packet.Slice(length, TagLength), packet.Slice(0, headerLength));
    }

    public override bool UnprotectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index)
    {
        Span<byte> iv = stackalloc byte[IvLength];
        BuildRtpIv(_rtpSalt, ssrc, index, iv);
        Span<byte> payload = packet.Slice(headerLength, length - headerLength);
        if (_rtpCheck is not null)
        {
            return _rtpCheck.TryDecrypt(iv, payload, packet.Slice(length, TagLength), packet.Slice(0, headerLength));
        }

        try
        {
            _rtp.Decrypt(iv, payload, packet.Slice(length, TagLength), payload, packet.Slice(0, headerLength));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public override void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        Span<byte> iv = stackalloc byte[IvLength];
        BuildRtcpIv(_rtcpSalt, ssrc, index, iv);
        uint trailer = 0x8000_0000u | index;
        Span<byte> aad = stackalloc byte[RtcpHeaderLength + 4];
        packet.Slice(0, RtcpHeaderLength).CopyTo(aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad.Slice(RtcpHeaderLength), trailer);

        Span<byte> payload = packet.Slice(RtcpHeaderLength, length - RtcpHeaderLength);
        _rtcp.Encrypt(iv, payload, payload, packet.Slice(length, TagLength), aad);
        BinaryPrimitives.WriteUInt32BigEndian(packet.Slice(length + TagLength), trailer);
    }

    public override bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted)
    {
        Span<byte> iv = stackalloc byte[IvLength];
        BuildRtcpIv(_rtcpSalt, ssrc, index, iv);
        int tagOffset = length - 4 - TagLength;
        if (_rtcpCheck is not null)
        {
            return UnprotectRtcpChecked(_rtcpCheck, packet, length, iv, tagOffset, encrypted);
        }

        try
        {
            if (encrypted)
            {
                Span<byte> aad = stackalloc byte[RtcpHeaderLength + 4];
                packet.Slice(0, RtcpHeaderLength).CopyTo(aad);
                packet.Slice(length - 4, 4).CopyTo(aad.Slice(RtcpHeaderLength));
                Span<byte> payload = packet.Slice(RtcpHeaderLength, tagOffset - RtcpHeaderLength);
                _rtcp.Decrypt(iv, payload, packet.Slice(tagOffset, TagLength), payload, aad);
                return true;
            }

            // Authentication only (E = 0, RFC 7714 §9.2): the whole packet and E||index are associated data.
            // Move the trailer next to the packet so the associated data is contiguous; the tag is kept aside.
            Span<byte> tag = stackalloc byte[TagLength];
            packet.Slice(tagOffset, TagLength).CopyTo(tag);
            packet.Slice(length - 4, 4).CopyTo(packet.Slice(tagOffset));
            _rtcp.Decrypt(iv, ReadOnlySpan<byte>.Empty, tag, Span<byte>.Empty, packet.Slice(0, tagOffset + 4));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public override void Dispose()
    {
        _rtp.Dispose();
        _rtcp.Dispose();
        _rtpCheck?.Dispose();
        _rtcpCheck?.Dispose();
    }

    private static bool UnprotectRtcpChecked(GcmCheck check, Span<byte> packet, int length, ReadOnlySpan<byte> iv, int tagOffset, bool encrypted)
    {
        if (encrypted)
        {
            Span<byte> aad = stackalloc byte[RtcpHeaderLength + 4];
            packet.Slice(0, RtcpHeaderLength).CopyTo(aad);
            packet.Slice(length - 4, 4).CopyTo(aad.Slice(RtcpHeaderLength));
            return check.TryDecrypt(iv, packet.Slice(RtcpHeaderLength, tagOffset - RtcpHeaderLength), packet.Slice(tagOffset, TagLength), aad);
        }

        // Authentication only: the packet and E||index are the associated data, nothing is encrypted.
        Span<byte> tag = stackalloc byte[TagLength];
        packet.Slice(tagOffset, TagLength).CopyTo(tag);
        packet.Slice(length - 4, 4).CopyTo(packet.Slice(tagOffset));
        return check.TryDecrypt(iv, Span<byte>.Empty, tag, packet.Slice(0, tagOffset + 4));
    }

    /// <summary>GCM decryption that checks the tag before touching the ciphertext and reports a mismatch as false.</summary>
    private sealed class GcmCheck : IDisposable
    {
        private readonly AesCounterMode _ctr;
        private readonly GcmHash _hash;

        public GcmCheck(ReadOnlySpan<byte> key)
        {
            _ctr = new AesCounterMode(key);
            Span<byte> h = stackalloc byte[16];
            h.Clear();
            _ctr.Apply(h, h); // H = E_K(0^128): the keystream of the zero counter over zeros
            _hash = new GcmHash(h);
        }

        public bool TryDecrypt(ReadOnlySpan<byte> iv, Span<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData)
        {
            Span<byte> counter = stackalloc byte[16];
            iv.CopyTo(counter);
            counter[12] = 0;
            counter[13] = 0;
            counter[14] = 0;
            counter[15] = 1; // J0 = IV || 0^31 || 1 for a 96-bit IV
            Span<byte> expected = stackalloc byte[16];
            _hash.Compute(associatedData, ciphertext, expected);
            _ctr.Apply(counter, expected); // tag = E_K(J0) xor GHASH
            if (!CryptographicOperations.FixedTimeEquals(expected, tag))
            {
                return false;
            }

            counter[15] = 2; // the payload starts at inc32(J0)
            _ctr.Apply(counter, ciphertext);
            return true;
        }

        public void Dispose() => _ctr.Dispose();
    }

    /// <summary>IV = (0x0000 || SSRC || ROC || SEQ) xor salt, RFC 7714 §8.1.</summary>
    internal static void BuildRtpIv(ReadOnlySpan<byte> salt, uint ssrc, ulong index, Span<byte> iv)
    {
        iv[0] = 0;
        iv[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(2), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(6), (uint)(index >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(iv.Slice(10), (ushort)index);
        XorSalt(salt, iv);
    }

    /// <summary>IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) xor salt, RFC 7714 §9.1.</summary>
    internal static void BuildRtcpIv(ReadOnlySpan<byte> salt, uint ssrc, uint index, Span<byte> iv)
    {
        iv[0] = 0;
        iv[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(2), ssrc);
        iv[6] = 0;
        iv[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(8), index & 0x7FFF_FFFFu);
        XorSalt(salt, iv);
    }

    private static void XorSalt(ReadOnlySpan<byte> salt, Span<byte> iv)
    {
        for (int i = 0; i < IvLength; i++)
        {
            iv[i] ^= salt[i];
        }
    }
}
