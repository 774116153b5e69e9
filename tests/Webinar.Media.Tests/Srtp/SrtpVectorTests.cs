using Webinar.Media.Srtp;

namespace Webinar.Media.Tests.Srtp;

public sealed class SrtpVectorTests
{
    [Fact]
    public void Rfc3711_b2_aes_cm_keystream_matches_at_both_ends_of_the_segment()
    {
        Span<byte> iv = stackalloc byte[16];
        AesCmHmacSha1Transform.BuildIv(SrtpTestVectors.B2SessionSalt, ssrc: 0, index: 0, iv);
        Assert.Equal("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", Convert.ToHexString(iv));

        var keystream = new byte[SrtpTestVectors.B2KeystreamLength];
        using var cipher = new AesCounterMode(SrtpTestVectors.B2SessionKey);
        cipher.Apply(iv, keystream);

        Assert.Equal(SrtpTestVectors.B2KeystreamStart, Convert.ToHexString(keystream, 0, 48));
        Assert.Equal(SrtpTestVectors.B2KeystreamEnd, Convert.ToHexString(keystream, keystream.Length - 48, 48));
    }

    [Fact]
    public void Rfc3711_b3_key_derivation_yields_cipher_key_salt_and_auth_key()
    {
        byte[] key = SrtpTestVectors.B3MasterKey;
        byte[] salt = SrtpTestVectors.B3MasterSalt;

        Assert.Equal(SrtpTestVectors.B3CipherKey, Convert.ToHexString(SrtpKeyDerivation.Derive(key, salt, 0x00, 16)));
        Assert.Equal(SrtpTestVectors.B3CipherSalt, Convert.ToHexString(SrtpKeyDerivation.Derive(key, salt, 0x02, 14)));
        Assert.Equal(SrtpTestVectors.B3AuthKey, Convert.ToHexString(SrtpKeyDerivation.Derive(key, salt, 0x01, 20)));

        SrtpSessionKeys keys = SrtpKeyDerivation.Derive(SrtpProfile.Aes128CmHmacSha1_80, key, salt);
        Assert.Equal(SrtpTestVectors.B3CipherKey, Convert.ToHexString(keys.RtpCipherKey));
        Assert.Equal(SrtpTestVectors.B3CipherSalt, Convert.ToHexString(keys.RtpSalt));
        Assert.Equal(SrtpTestVectors.B3AuthKey, Convert.ToHexString(keys.RtpAuthKey));
    }

    [Fact]
    public void Libsrtp_reference_rtp_packet_is_reproduced_and_reversed()
    {
        using var sender = new SrtpSession(
            SrtpProfile.Aes128CmHmacSha1_80, SrtpTestVectors.B3MasterKey, SrtpTestVectors.B3MasterSalt);
        using var receiver = new SrtpSession(
            SrtpProfile.Aes128CmHmacSha1_80, SrtpTestVectors.B3MasterKey, SrtpTestVectors.B3MasterSalt);
        var buffer = new byte[64];
        SrtpTestVectors.LibsrtpRtpPlain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, SrtpTestVectors.LibsrtpRtpPlain.Length, out int length));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.LibsrtpRtpProtected), Convert.ToHexString(buffer, 0, length));

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer, length, out int plainLength));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.LibsrtpRtpPlain), Convert.ToHexString(buffer, 0, plainLength));
    }

    [Fact]
    public void Libsrtp_reference_rtcp_packet_is_reproduced_and_reversed()
    {
        using var sender = new SrtpSession(
            SrtpProfile.Aes128CmHmacSha1_80, SrtpTestVectors.B3MasterKey, SrtpTestVectors.B3MasterSalt);
        using var receiver = new SrtpSession(
            SrtpProfile.Aes128CmHmacSha1_80, SrtpTestVectors.B3MasterKey, SrtpTestVectors.B3MasterSalt);
        sender.SetNextRtcpIndex(0xcafebabe, 1);
        var buffer = new byte[64];
        SrtpTestVectors.LibsrtpRtcpPlain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, SrtpTestVectors.LibsrtpRtcpPlain.Length, out int length));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.LibsrtpRtcpProtected), Convert.ToHexString(buffer, 0, length));

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer, length, out int plainLength));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.LibsrtpRtcpPlain), Convert.ToHexString(buffer, 0, plainLength));
    }

    [Fact]
    public void Rfc7714_rtp_iv_is_built_from_salt_ssrc_roc_and_sequence()
    {
        Span<byte> iv = stackalloc byte[12];
        AesGcmTransform.BuildRtpIv(SrtpTestVectors.GcmSessionSalt, 0x5501a0b2, 0xf17b, iv);
        Assert.Equal(SrtpTestVectors.GcmRtpIv, Convert.ToHexString(iv).ToLowerInvariant());
    }

    [Fact]
    public void Rfc7714_16_1_aead_aes_128_gcm_rtp_is_reproduced_and_reversed()
    {
        using SrtpSession sender = GcmSessionFromRfcKeys();
        using SrtpSession receiver = GcmSessionFromRfcKeys();
        var buffer = new byte[128];
        SrtpTestVectors.GcmRtpPlain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, SrtpTestVectors.GcmRtpPlain.Length, out int length));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.GcmRtpProtected), Convert.ToHexString(buffer, 0, length));

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer, length, out int plainLength));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.GcmRtpPlain), Convert.ToHexString(buffer, 0, plainLength));
    }

    [Fact]
    public void Rfc7714_17_1_aead_aes_128_gcm_rtcp_is_reproduced_and_reversed()
    {
        using SrtpSession sender = GcmSessionFromRfcKeys();
        using SrtpSession receiver = GcmSessionFromRfcKeys();
        sender.SetNextRtcpIndex(SrtpTestVectors.GcmRtcpSsrc, SrtpTestVectors.GcmRtcpIndex);
        var buffer = new byte[128];
        SrtpTestVectors.GcmRtcpPlain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, SrtpTestVectors.GcmRtcpPlain.Length, out int length));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.GcmRtcpProtected), Convert.ToHexString(buffer, 0, length));

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer, length, out int plainLength));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.GcmRtcpPlain), Convert.ToHexString(buffer, 0, plainLength));
    }

    [Fact]
    public void Rfc7714_17_3_authenticated_only_rtcp_is_accepted()
    {
        using SrtpSession receiver = GcmSessionFromRfcKeys();
        byte[] buffer = (byte[])SrtpTestVectors.GcmRtcpTagOnly.Clone();

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer, buffer.Length, out int plainLength));
        Assert.Equal(Convert.ToHexString(SrtpTestVectors.GcmRtcpPlain), Convert.ToHexString(buffer, 0, plainLength));
    }

    internal static SrtpSession GcmSessionFromRfcKeys() =>
        new(SrtpProfile.AeadAes128Gcm, new SrtpSessionKeys
        {
            RtpCipherKey = SrtpTestVectors.GcmSessionKey,
            RtpSalt = SrtpTestVectors.GcmSessionSalt,
            RtpAuthKey = [],
            RtcpCipherKey = SrtpTestVectors.GcmSessionKey,
            RtcpSalt = SrtpTestVectors.GcmSessionSalt,
            RtcpAuthKey = [],
        });
}
