using Org.BouncyCastle.Tls;

namespace Webinar.Media.Dtls;

/// <summary>
/// What the peer callbacks learn during one handshake, shared by <see cref="DtlsSrtpServer"/>,
/// <see cref="DtlsSrtpClient"/> (BouncyCastle) and <see cref="OpenSsl.OpenSslDtlsServer"/>: our own reason for failing
/// it, the peer's last alert, and the exported SRTP keys. Written only by the one thread running the handshake at a
/// time (BouncyCastle's handshake thread, or the OpenSSL worker running the association's step).
/// </summary>
internal sealed class DtlsHandshakeState
{
    public DtlsHandshakeState(DtlsFingerprint expectedRemoteFingerprint, IReadOnlyList<ushort> srtpProfiles)
    {
        ExpectedRemoteFingerprint = expectedRemoteFingerprint;
        SrtpProfiles = srtpProfiles;
    }

    public DtlsFingerprint ExpectedRemoteFingerprint { get; }

    public IReadOnlyList<ushort> SrtpProfiles { get; }

    public DtlsError Failure { get; private set; }

    public string? FailureMessage { get; private set; }

    /// <summary>The alert description we raised for <see cref="Failure"/>, or 0.</summary>
    public short FailureAlert { get; private set; }

    /// <summary>The last alert the peer sent (description), or -1.</summary>
    public int RemoteAlert { get; set; } = -1;

    public bool RemoteAlertFatal { get; set; }

    public DtlsSrtpKeys? Keys { get; private set; }

    /// <summary>Records why we are failing the handshake and returns the fatal alert to throw.</summary>
    public TlsFatalAlert Fail(DtlsError error, string message, short alert)
    {
        Record(error, message, alert);
        return new TlsFatalAlert(alert);
    }

    /// <summary>Records why we are failing the handshake (the first reason wins).</summary>
    public void Record(DtlsError error, string message, short alert)
    {
        if (Failure == DtlsError.None)
        {
            Failure = error;
            FailureMessage = message;
            FailureAlert = alert;
        }
    }

    /// <summary>
    /// Checks a peer certificate's DER against the fingerprint from its SDP; false (and the failure recorded) when it
    /// does not match.
    /// </summary>
    public bool AcceptPeerCertificate(ReadOnlySpan<byte> der)
    {
        if (ExpectedRemoteFingerprint.Matches(der))
        {
            return true;
        }

        Record(
            DtlsError.FingerprintMismatch,
            $"The peer's certificate has fingerprint {DtlsFingerprint.Compute(der, ExpectedRemoteFingerprint.Algorithm)}, its SDP announced {ExpectedRemoteFingerprint}.",
            AlertDescription.bad_certificate);
        return false;
    }

    /// <summary>Checks the peer's end-entity certificate against the fingerprint from its SDP.</summary>
    public void VerifyPeerCertificate(Certificate? certificate)
    {
        if (certificate is null || certificate.IsEmpty)
        {
            throw Fail(DtlsError.FingerprintMismatch, "The peer sent no certificate.", AlertDescription.bad_certificate);
        }

        if (!AcceptPeerCertificate(certificate.GetCertificateAt(0).GetEncoded()))
        {
            throw new TlsFatalAlert(AlertDescription.bad_certificate);
        }
    }

    /// <summary>Our most preferred profile among those offered, or 0.</summary>
    public ushort ChooseProfile(int[]? offered)
    {
        if (offered is null)
        {
            return 0;
        }

        foreach (var preferred in SrtpProfiles)
        {
            foreach (var candidate in offered)
            {
                if (candidate == preferred && Dtls.SrtpProfiles.IsSupported(preferred))
                {
                    return preferred;
                }
            }
        }

        return 0;
    }

    public void RequireExtendedMasterSecret(IDictionary<int, byte[]>? extensions)
    {
        if (extensions is null || !TlsExtensionsUtilities.HasExtendedMasterSecretExtension(extensions))
        {
            throw Fail(
                DtlsError.NoExtendedMasterSecret,
                "The peer did not negotiate the extended master secret (RFC 7627).",
                AlertDescription.handshake_failure);
        }
    }

    /// <summary>
    /// Exports the RFC 5764 §4.2 keying material. Must run inside NotifyHandshakeComplete: once Accept/Connect
    /// returns, BouncyCastle has wiped the master secret.
    /// </summary>
    public void ExportKeys(TlsContext context, ushort profile, bool isServer)
    {
        if (!context.SecurityParameters.IsExtendedMasterSecret)
        {
            throw Fail(DtlsError.NoExtendedMasterSecret, "The handshake finished without the extended master secret.", AlertDescription.handshake_failure);
        }

        var material = context.ExportKeyingMaterial(ExporterLabel.dtls_srtp, null, KeyingMaterialLength(profile));
        SetKeys(profile, material, isServer);
        Array.Clear(material);
    }

    /// <summary>Bytes of "EXTRACTOR-dtls_srtp" keying material a profile needs: two keys and two salts.</summary>
    public static int KeyingMaterialLength(ushort profile) =>
        2 * (Dtls.SrtpProfiles.KeyLength(profile) + Dtls.SrtpProfiles.SaltLength(profile));

    /// <summary>
    /// Splits RFC 5764 §4.2 keying material (client_write_key | server_write_key | client_write_salt |
    /// server_write_salt) into <see cref="Keys"/>, local and remote by our role. Both engines go through here.
    /// </summary>
    public void SetKeys(ushort profile, ReadOnlySpan<byte> material, bool isServer)
    {
        var keyLength = Dtls.SrtpProfiles.KeyLength(profile);
        var saltLength = Dtls.SrtpProfiles.SaltLength(profile);
        var clientKey = material.Slice(0, keyLength).ToArray();
        var serverKey = material.Slice(keyLength, keyLength).ToArray();
        var clientSalt = material.Slice(2 * keyLength, saltLength).ToArray();
        var serverSalt = material.Slice(2 * keyLength + saltLength, saltLength).ToArray();

        Keys = isServer
            ? new DtlsSrtpKeys(profile, serverKey, serverSalt, clientKey, clientSalt)
            : new DtlsSrtpKeys(profile, clientKey, clientSalt, serverKey, serverSalt);
    }

    /// <summary>DTLS 1.2 first, 1.0 for old peers.</summary>
    public static ProtocolVersion[] Versions { get; } = ProtocolVersion.DTLSv12.DownTo(ProtocolVersion.DTLSv10);

    /// <summary>Key exchange groups: X25519 (what browsers offer first, and the cheapest), then P-256.</summary>
    public static int[] Groups { get; } = [NamedGroup.x25519, NamedGroup.secp256r1];

    /// <summary>ECDSA cipher suites only: our certificate is ECDSA P-256. GCM first, CBC for old peers and DTLS 1.0.</summary>
    public static int[] CipherSuites() =>
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    ];

    /// <summary>The signature algorithm for our ECDSA key: sha256 on DTLS 1.2, implicit (null) on DTLS 1.0.</summary>
    public static SignatureAndHashAlgorithm? EcdsaSignatureAlgorithm(TlsContext context) =>
        TlsUtilities.IsTlsV12(context) ? SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa) : null;
}
