using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;

namespace Webinar.Media.Dtls;

/// <summary>
/// BouncyCastle client peer for DTLS-SRTP: offers DTLS 1.2 (accepts 1.0), ECDHE_ECDSA suites, extended master secret,
/// use_srtp with our profiles; checks the server certificate against the SDP fingerprint and presents our own.
/// </summary>
internal sealed class DtlsSrtpClient : DefaultTlsClient
{
    private readonly DtlsCertificate _certificate;
    private readonly DtlsHandshakeState _state;
    private int _profile;

    public DtlsSrtpClient(DtlsCertificate certificate, DtlsHandshakeState state)
        : base(DtlsCrypto.Shared)
    {
        _certificate = certificate;
        _state = state;
    }

    protected override ProtocolVersion[] GetSupportedVersions() => DtlsHandshakeState.Versions;

    protected override int[] GetSupportedCipherSuites() => DtlsHandshakeState.CipherSuites();

    protected override IList<int> GetSupportedGroups(IList<int> namedGroupRoles) => DtlsHandshakeState.Groups;

    public override bool RequiresExtendedMasterSecret() => true;

    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetClientExtensions());
        var profiles = new int[_state.SrtpProfiles.Count];
        for (var i = 0; i < profiles.Length; i++)
        {
            profiles[i] = _state.SrtpProfiles[i];
        }

        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData(profiles, []));
        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary<int, byte[]> serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        _state.RequireExtendedMasterSecret(serverExtensions);

        var chosen = serverExtensions is null ? null : TlsSrtpUtilities.GetUseSrtpExtension(serverExtensions);
        if (chosen?.ProtectionProfiles is not { Length: 1 } profiles || _state.ChooseProfile(profiles) == 0)
        {
            throw _state.Fail(
                DtlsError.NoCommonSrtpProfile,
                "The server did not select exactly one of the SRTP protection profiles we offered.",
                AlertDescription.illegal_parameter);
        }

        _profile = profiles[0];
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    public override void NotifyAlertReceived(short alertLevel, short alertDescription)
    {
        _state.RemoteAlert = alertDescription;
        _state.RemoteAlertFatal = alertLevel == AlertLevel.fatal;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        _state.ExportKeys(m_context, (ushort)_profile, isServer: false);
    }

    private sealed class Authentication(DtlsSrtpClient client) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate) =>
            client._state.VerifyPeerCertificate(serverCertificate.Certificate);

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            new DtlsEcdsaSigner(client._certificate, DtlsHandshakeState.EcdsaSignatureAlgorithm(client.m_context));
    }
}
