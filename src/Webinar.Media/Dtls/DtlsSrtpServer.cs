using System.Collections;
using Org.BouncyCastle.Crypto.Tls;

namespace Webinar.Media.Dtls;

/// <summary>
/// BouncyCastle server peer for DTLS-SRTP: DTLS 1.0–1.2, ECDHE_ECDSA suites, extended master secret required,
/// use_srtp negotiated from our preference list, a client certificate required and checked against the SDP fingerprint.
/// </summary>
internal sealed class DtlsSrtpServer : DefaultTlsServer
{
    private readonly DtlsCertificate _certificate;
    private readonly DtlsHandshakeState _state;
    private ushort _profile;

    public DtlsSrtpServer(DtlsCertificate certificate, DtlsHandshakeState state)
    {
        _certificate = certificate;
        _state = state;
    }

    // The TLS defaults make BouncyCastle answer a DTLS ClientHello with protocol_version (alert 70).
    protected override ProtocolVersion MinimumVersion => ProtocolVersion.DTLSv10;

    protected override ProtocolVersion MaximumVersion => ProtocolVersion.DTLSv12;

    protected override int[] GetCipherSuites() => DtlsHandshakeState.CipherSuites();

    public override bool RequiresExtendedMasterSecret() => true;

    public override void ProcessClientExtensions(IDictionary clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        _state.RequireExtendedMasterSecret(clientExtensions);

        var offered = clientExtensions is null ? null : TlsSRTPUtils.GetUseSrtpExtension(clientExtensions);
        _profile = _state.ChooseProfile(offered?.ProtectionProfiles);
        if (_profile == 0)
        {
            throw _state.Fail(
                DtlsError.NoCommonSrtpProfile,
                offered is null ? "The client sent no use_srtp extension." : "The client offered no SRTP protection profile we support.",
                AlertDescription.handshake_failure);
        }
    }

    public override IDictionary GetServerExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetServerExtensions());
        // An empty MKI: RFC 5764 §4.1.1 lets the server decline the client's MKI.
        TlsSRTPUtils.AddUseSrtpExtension(extensions, new UseSrtpData([_profile], []));
        return extensions;
    }

    public override CertificateRequest GetCertificateRequest()
    {
        IList? algorithms = null;
        if (TlsUtilities.IsSignatureAlgorithmsExtensionAllowed(mServerVersion))
        {
            algorithms = new ArrayList();
            foreach (var hash in (byte[])[HashAlgorithm.sha256, HashAlgorithm.sha384, HashAlgorithm.sha512, HashAlgorithm.sha1])
            {
                algorithms.Add(new SignatureAndHashAlgorithm(hash, SignatureAlgorithm.ecdsa));
                algorithms.Add(new SignatureAndHashAlgorithm(hash, SignatureAlgorithm.rsa));
            }
        }

        return new CertificateRequest([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign], algorithms, null);
    }

    public override void NotifyClientCertificate(Certificate clientCertificate) =>
        _state.VerifyPeerCertificate(clientCertificate);

    protected override TlsSignerCredentials GetECDsaSignerCredentials() =>
        new DefaultTlsSignerCredentials(mContext, _certificate.Chain, _certificate.PrivateKey, DtlsHandshakeState.EcdsaSignatureAlgorithm(mContext));

    public override void NotifyAlertReceived(byte alertLevel, byte alertDescription)
    {
        _state.RemoteAlert = alertDescription;
        _state.RemoteAlertFatal = alertLevel == AlertLevel.fatal;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        _state.ExportKeys(mContext, _profile, isServer: true);
    }
}
