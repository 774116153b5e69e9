using System.Collections;
using Org.BouncyCastle.Crypto.Tls;

namespace Webinar.Media.Dtls;

/// <summary>
/// BouncyCastle client peer for DTLS-SRTP: offers DTLS 1.2 (accepts 1.0), ECDHE_ECDSA suites, extended master secret,
/// use_srtp with our profiles; checks the server certificate against the SDP fingerprint and presents our own.
/// </summary>
internal sealed class DtlsSrtpClient : DefaultTlsClient
{
    private readonly DtlsCertificate _certificate;
    private readonly DtlsHandshakeState _state;
    private ushort _profile;

    public DtlsSrtpClient(DtlsCertificate certificate, DtlsHandshakeState state)
    {
        _certificate = certificate;
        _state = state;
    }

    public override ProtocolVersion ClientVersion => ProtocolVersion.DTLSv12;

    public override ProtocolVersion MinimumVersion => ProtocolVersion.DTLSv10;

    public override int[] GetCipherSuites() => DtlsHandshakeState.CipherSuites();

    public override bool RequiresExtendedMasterSecret() => true;

    public override IDictionary GetClientExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetClientExtensions());
        var profiles = new int[_state.SrtpProfiles.Count];
        for (var i = 0; i < profiles.Length; i++)
        {
            profiles[i] = _state.SrtpProfiles[i];
        }

        TlsSRTPUtils.AddUseSrtpExtension(extensions, new UseSrtpData(profiles, []));
        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        _state.RequireExtendedMasterSecret(serverExtensions);

        var chosen = serverExtensions is null ? null : TlsSRTPUtils.GetUseSrtpExtension(serverExtensions);
        if (chosen?.ProtectionProfiles is not { Length: 1 } profiles || _state.ChooseProfile(profiles) == 0)
        {
            throw _state.Fail(
                DtlsError.NoCommonSrtpProfile,
                "The server did not select exactly one of the SRTP protection profiles we offered.",
                AlertDescription.illegal_parameter);
        }

        _profile = (ushort)profiles[0];
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    public override void NotifyAlertReceived(byte alertLevel, byte alertDescription)
    {
        _state.RemoteAlert = alertDescription;
        _state.RemoteAlertFatal = alertLevel == AlertLevel.fatal;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        _state.ExportKeys(mContext, _profile, isServer: false);
    }

    private sealed class Authentication(DtlsSrtpClient client) : TlsAuthentication
    {
        public void NotifyServerCertificate(Certificate serverCertificate) =>
            client._state.VerifyPeerCertificate(serverCertificate);

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            new DefaultTlsSignerCredentials(
                client.mContext,
                client._certificate.Chain,
                client._certificate.PrivateKey,
                DtlsHandshakeState.EcdsaSignatureAlgorithm(client.mContext));
    }
}
