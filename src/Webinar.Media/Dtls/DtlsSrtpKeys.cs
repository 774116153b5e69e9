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
/// <summary>
/// The DTLS-SRTP protection profile numbers (IANA "DTLS-SRTP Protection Profiles") we negotiate in use_srtp. They are
/// <see cref="Srtp.SrtpProfile"/>'s values; key and salt lengths come from <see cref="Srtp.SrtpProfiles"/>.
/// </summary>
public static class SrtpProfiles
{
    /// <summary>SRTP_AES128_CM_HMAC_SHA1_80.</summary>
    public const ushort Aes128CmHmacSha1_80 = (ushort)Srtp.SrtpProfile.Aes128CmHmacSha1_80;

    /// <summary>SRTP_AEAD_AES_128_GCM (RFC 7714).</summary>
    public const ushort AeadAes128Gcm = (ushort)Srtp.SrtpProfile.AeadAes128Gcm;

    public static bool IsSupported(ushort profile) => Srtp.SrtpProfiles.IsSupported((Srtp.SrtpProfile)profile);

    /// <summary>Master key length in bytes, or 0 for a profile we do not support.</summary>
    public static int KeyLength(ushort profile) => IsSupported(profile) ? Srtp.SrtpProfiles.MasterKeyLength((Srtp.SrtpProfile)profile) : 0;

    /// <summary>Master salt length in bytes, or 0 for a profile we do not support.</summary>
    public static int SaltLength(ushort profile) => IsSupported(profile) ? Srtp.SrtpProfiles.MasterSaltLength((Srtp.SrtpProfile)profile) : 0;
}
