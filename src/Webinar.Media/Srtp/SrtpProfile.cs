namespace Webinar.Media.Srtp;

/// <summary>DTLS-SRTP protection profiles we implement, by their IANA id (RFC 5764 §4.1.2, RFC 7714 §14.2).</summary>
public enum SrtpProfile : ushort
{
    /// <summary>SRTP_AES128_CM_HMAC_SHA1_80: 16-byte key, 14-byte salt, 80-bit HMAC-SHA1 tag.</summary>
    Aes128CmHmacSha1_80 = 0x0001,

    /// <summary>SRTP_AEAD_AES_128_GCM: 16-byte key, 12-byte salt, 16-byte GCM tag.</summary>
    AeadAes128Gcm = 0x0007,
}

/// <summary>Key material sizes and per-packet overheads of each <see cref="SrtpProfile"/>.</summary>
public static class SrtpProfiles
{
    public static bool IsSupported(SrtpProfile profile) =>
        profile is SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.AeadAes128Gcm;

    public static int MasterKeyLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 => 16,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw Unsupported(profile),
    };

    public static int MasterSaltLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 => 14,
        SrtpProfile.AeadAes128Gcm => 12,
        _ => throw Unsupported(profile),
    };

    /// <summary>Bytes ProtectRtp appends: the authentication tag.</summary>
    public static int RtpOverhead(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 => 10,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw Unsupported(profile),
    };

    /// <summary>Bytes ProtectRtcp appends: the tag plus the 4-byte E flag and SRTCP index.</summary>
    public static int RtcpOverhead(SrtpProfile profile) => RtpOverhead(profile) + 4;

    private static ArgumentOutOfRangeException Unsupported(SrtpProfile profile) =>
        new(nameof(profile), profile, "Unsupported SRTP protection profile.");
}

/// <summary>Outcome of protecting or unprotecting one packet.</summary>
public enum SrtpResult
{
    Ok = 0,
    TooShort,
    Malformed,
    AuthenticationFailed,
    Replayed,
    TooOld,
    BufferTooSmall,
}
