using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;

namespace Webinar.Media.Dtls;

/// <summary>
/// BouncyCastle server peer for DTLS-SRTP: DTLS 1.0–1.2, ECDHE_ECDSA suites, extended master secret required,
/// use_srtp negotiated from our preference list, a client certificate required and checked against the SDP fingerprint.
/// </summary>
internal sealed class DtlsSrtpServer : DefaultTlsServer
{
    private readonly DtlsCertificate _certificate;
    private readonly DtlsHandshakeState _state;
    private int _profile;

    public DtlsSrtpServer(DtlsCertificate certificate, DtlsHandshakeState state)
        : base(DtlsCrypto.Shared)
    {
        _certificate = certificate;
        _state = state;
    }

    protected override ProtocolVersion[] GetSupportedVersions() => DtlsHandshakeState.Versions;

    protected override int[] GetSupportedCipherSuites() => DtlsHandshakeState.CipherSuites();

    public override int[] GetSupportedGroups() => DtlsHandshakeState.Groups;

    public override bool RequiresExtendedMasterSecret() => true;

    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        _state.RequireExtendedMasterSecret(clientExtensions);

        var offered = clientExtensions is null ? null : TlsSrtpUtilities.GetUseSrtpExtension(clientExtensions);
        _profile = _state.ChooseProfile(offered?.ProtectionProfiles);
        if (_profile == 0)
        {
            throw _state.Fail(
                DtlsError.NoCommonSrtpProfile,
                offered is null ? "The client sent no use_srtp extension." : "The client offered no SRTP protection profile we support.",
                AlertDescription.handshake_failure);
        }
    }

    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetServerExtensions());
        // An empty MKI: RFC 5764 §4.1.1 lets the server decline the client's MKI.
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([_profile], []));
        return extensions;
    }

    public override CertificateRequest GetCertificateRequest()
    {
        List<SignatureAndHashAlgorithm>? algorithms = null;
        if (TlsUtilities.IsSignatureAlgorithmsExtensionAllowed(m_context.ServerVersion))
        {
            algorithms = [];
            foreach (var hash in (short[])[HashAlgorithm.sha256, HashAlgorithm.sha384, HashAlgorithm.sha512, HashAlgorithm.sha1])
            {
                algorithms.Add(SignatureAndHashAlgorithm.GetInstance(hash, SignatureAlgorithm.ecdsa));
                algorithms.Add(SignatureAndHashAlgorithm.GetInstance(hash, SignatureAlgorithm.rsa));
            }
        }

        return new CertificateRequest([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign], algorithms, null);
    }

    public override void NotifyClientCertificate(Certificate clientCertificate) =>
        _state.VerifyPeerCertificate(clientCertificate);

    protected override TlsCredentialedSigner GetECDsaSignerCredentials() =>
        new DtlsEcdsaSigner(_certificate, DtlsHandshakeState.EcdsaSignatureAlgorithm(m_context));

    public override void NotifyAlertReceived(short alertLevel, short alertDescription)
    {
        _state.RemoteAlert = alertDescription;
        _state.RemoteAlertFatal = alertLevel == AlertLevel.fatal;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        _state.ExportKeys(m_context, (ushort)_profile, isServer: true);
    }
}
