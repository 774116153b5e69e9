namespace Webinar.Media.Dtls;

/// <summary>
/// SRTP master keys exported from a DTLS-SRTP handshake (RFC 5764 §4.2).
/// Local = the key and salt this side uses to protect what it sends; Remote = what it uses to unprotect what it receives.
/// </summary>
public sealed record DtlsSrtpKeys(
    ushort ProtectionProfile,
    byte[] LocalMasterKey,
    byte[] LocalMasterSalt,
    byte[] RemoteMasterKey,
    byte[] RemoteMasterSalt);

/// <summary>The SRTP protection profiles (IANA "DTLS-SRTP Protection Profiles") we negotiate.</summary>
public static class SrtpProfiles
{
    /// <summary>SRTP_AES128_CM_HMAC_SHA1_80: 16-byte key, 14-byte salt.</summary>
    public const ushort Aes128CmHmacSha1_80 = 0x0001;

    /// <summary>SRTP_AEAD_AES_128_GCM (RFC 7714): 16-byte key, 12-byte salt.</summary>
    public const ushort AeadAes128Gcm = 0x0007;

    /// <summary>Master key length in bytes, or 0 for a profile we do not support.</summary>
    public static int KeyLength(ushort profile) => profile switch
    {
        Aes128CmHmacSha1_80 or AeadAes128Gcm => 16,
        _ => 0,
    };

    /// <summary>Master salt length in bytes, or 0 for a profile we do not support.</summary>
    public static int SaltLength(ushort profile) => profile switch
    {
        Aes128CmHmacSha1_80 => 14,
        AeadAes128Gcm => 12,
        _ => 0,
    };

    public static bool IsSupported(ushort profile) => KeyLength(profile) != 0;
}
