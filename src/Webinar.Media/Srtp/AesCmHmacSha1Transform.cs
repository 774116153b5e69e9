using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Webinar.Media.Srtp;

/// <summary>AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2.1): AES counter mode and an 80-bit HMAC-SHA1 tag.</summary>
internal sealed class AesCmHmacSha1Transform : SrtpTransform
{
    private const int TagLength = 10;
    private const int Sha1Length = 20;
    private const int RtcpHeaderLength = 8;

    private readonly AesCounterMode _rtpCipher;
    private readonly AesCounterMode _rtcpCipher;
    private readonly IncrementalHash _rtpMac;
    private readonly IncrementalHash _rtcpMac;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;

    public AesCmHmacSha1Transform(SrtpSessionKeys keys)
    {
        _rtpCipher = new AesCounterMode(keys.RtpCipherKey);
        _rtcpCipher = new AesCounterMode(keys.RtcpCipherKey);
        _rtpMac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, keys.RtpAuthKey);
        _rtcpMac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, keys.RtcpAuthKey);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
    }

    public override int RtpTagLength => TagLength;

    public override int RtcpTagLength => TagLength;

    public override void ProtectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index)
    {
        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtpSalt, ssrc, index, iv);
        _rtpCipher.Apply(iv, packet.Slice(headerLength, length - headerLength));
        Span<byte> mac = stackalloc byte[Sha1Length];
        RtpMac(packet.Slice(0, length), (uint)(index >> 16), mac);
        mac.Slice(0, TagLength).CopyTo(packet.Slice(length));
    }

    public override bool UnprotectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index)
    {
        Span<byte> mac = stackalloc byte[Sha1Length];
        RtpMac(packet.Slice(0, length), (uint)(index >> 16), mac);
        if (!CryptographicOperations.FixedTimeEquals(mac.Slice(0, TagLength), packet.Slice(length, TagLength)))
        {
            return false;
        }

        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtpSalt, ssrc, index, iv);
        _rtpCipher.Apply(iv, packet.Slice(headerLength, length - headerLength));
        return true;
    }

    public override void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtcpSalt, ssrc, index, iv);
        _rtcpCipher.Apply(iv, packet.Slice(RtcpHeaderLength, length - RtcpHeaderLength));
        BinaryPrimitives.WriteUInt32BigEndian(packet.Slice(length), 0x8000_0000u | index);
        Span<byte> mac = stackalloc byte[Sha1Length];
        _rtcpMac.AppendData(packet.Slice(0, length + 4));
        _rtcpMac.TryGetHashAndReset(mac, out _);
        mac.Slice(0, TagLength).CopyTo(packet.Slice(length + 4));
    }

    public override bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted)
    {
        int authenticated = length - TagLength;
        Span<byte> mac = stackalloc byte[Sha1Length];
        _rtcpMac.AppendData(packet.Slice(0, authenticated));
        _rtcpMac.TryGetHashAndReset(mac, out _);
        if (!CryptographicOperations.FixedTimeEquals(mac.Slice(0, TagLength), packet.Slice(authenticated, TagLength)))
        {
            return false;
        }

        if (encrypted)
        {
            Span<byte> iv = stackalloc byte[16];
            BuildIv(_rtcpSalt, ssrc, index, iv);
            _rtcpCipher.Apply(iv, packet.Slice(RtcpHeaderLength, authenticated - 4 - RtcpHeaderLength));
        }

        return true;
    }

    public override void Dispose()
    {
        _rtpCipher.Dispose();
        _rtcpCipher.Dispose();
        _rtpMac.Dispose();
        _rtcpMac.Dispose();
    }

    /// <summary>IV = (k_s * 2^16) xor (SSRC * 2^64) xor (index * 2^16), RFC 3711 §4.1.1.</summary>
    internal static void BuildIv(ReadOnlySpan<byte> salt, uint ssrc, ulong index, Span<byte> iv)
    {
        salt.CopyTo(iv);
        iv[14] = 0;
        iv[15] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(4), BinaryPrimitives.ReadUInt32BigEndian(iv.Slice(4)) ^ ssrc);
        ulong tail = BinaryPrimitives.ReadUInt64BigEndian(iv.Slice(8)) ^ (index << 16);
        BinaryPrimitives.WriteUInt64BigEndian(iv.Slice(8), tail);
    }

    private void RtpMac(ReadOnlySpan<byte> authenticatedPortion, uint rolloverCounter, Span<byte> mac)
    {
        Span<byte> roc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(roc, rolloverCounter);
        _rtpMac.AppendData(authenticatedPortion);
        _rtpMac.AppendData(roc);
        _rtpMac.TryGetHashAndReset(mac, out _);
    }
}
