namespace Webinar.Media.Srtp;

/// <summary>Session keys for one direction, both SRTP and SRTCP.</summary>
internal sealed class SrtpSessionKeys
{
    public required byte[] RtpCipherKey { get; init; }
    public required byte[] RtpSalt { get; init; }
    public required byte[] RtpAuthKey { get; init; }
    public required byte[] RtcpCipherKey { get; init; }
    public required byte[] RtcpSalt { get; init; }
    public required byte[] RtcpAuthKey { get; init; }
}

/// <summary>
/// The SRTP key derivation function (RFC 3711 §4.3) with key_derivation_rate 0: AES-CM keyed with the master key,
/// run from IV = (master_salt xor (label &lt;&lt; 48)) &lt;&lt; 16. RFC 7714 §11 uses the same PRF for AEAD_AES_128_GCM;
/// its 12-byte master salt is taken left-aligned, as libsrtp and pion do.
/// </summary>
internal static class SrtpKeyDerivation
{
    public const byte LabelRtpEncryption = 0x00;
    public const byte LabelRtpAuthentication = 0x01;
    public const byte LabelRtpSalt = 0x02;
    public const byte LabelRtcpEncryption = 0x03;
    public const byte LabelRtcpAuthentication = 0x04;
    public const byte LabelRtcpSalt = 0x05;

    private const int AuthKeyLength = 20;

    public static SrtpSessionKeys Derive(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
    {
        int keyLength = SrtpProfiles.MasterKeyLength(profile);
        int saltLength = SrtpProfiles.MasterSaltLength(profile);
        if (masterKey.Length != keyLength)
        {
            throw new ArgumentException($"{profile} needs a {keyLength}-byte master key.", nameof(masterKey));
        }

        if (masterSalt.Length != saltLength)
        {
            throw new ArgumentException($"{profile} needs a {saltLength}-byte master salt.", nameof(masterSalt));
        }

        bool authenticatesWithHmac = profile == SrtpProfile.Aes128CmHmacSha1_80;
        using var prf = new AesCounterMode(masterKey);
        return new SrtpSessionKeys
        {
            RtpCipherKey = Derive(prf, masterSalt, LabelRtpEncryption, keyLength),
            RtpSalt = Derive(prf, masterSalt, LabelRtpSalt, saltLength),
            RtpAuthKey = authenticatesWithHmac ? Derive(prf, masterSalt, LabelRtpAuthentication, AuthKeyLength) : [],
            RtcpCipherKey = Derive(prf, masterSalt, LabelRtcpEncryption, keyLength),
            RtcpSalt = Derive(prf, masterSalt, LabelRtcpSalt, saltLength),
            RtcpAuthKey = authenticatesWithHmac ? Derive(prf, masterSalt, LabelRtcpAuthentication, AuthKeyLength) : [],
        };
    }

    public static byte[] Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, byte label, int length)
    {
        using var prf = new AesCounterMode(masterKey);
        return Derive(prf, masterSalt, label, length);
    }

    private static byte[] Derive(AesCounterMode prf, ReadOnlySpan<byte> masterSalt, byte label, int length)
    {
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        masterSalt.CopyTo(iv);
        iv[7] ^= label; // key_id = label || r (r = 0 when kdr = 0), right-aligned against the 14-byte salt.
        var output = new byte[length];
        prf.Apply(iv, output);
        return output;
    }
}
