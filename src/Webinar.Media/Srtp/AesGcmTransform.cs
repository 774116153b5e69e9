using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Webinar.Media.Srtp;

/// <summary>
/// AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714): 12-byte IV from the salt, SSRC and index (§8.1, §9.1),
/// the RTP header (or the SRTCP header and E||index) as associated data, a 16-byte tag.
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

    public AesGcmTransform(SrtpSessionKeys keys)
    {
        _rtp = new AesGcm(keys.RtpCipherKey, TagLength);
        _rtcp = new AesGcm(keys.RtcpCipherKey, TagLength);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
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
