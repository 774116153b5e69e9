namespace Webinar.Media.Dtls;

/// <summary>Why a DTLS-SRTP handshake failed or an established association ended.</summary>
public enum DtlsError
{
    None = 0,

    /// <summary>No handshake completed within <see cref="DtlsTransportOptions.HandshakeTimeout"/>.</summary>
    Timeout,

    /// <summary>The caller's cancellation token fired.</summary>
    Cancelled,

    /// <summary>The peer's certificate does not hash to the fingerprint announced in its SDP, or it sent none.</summary>
    FingerprintMismatch,

    /// <summary>The peer offered no SRTP protection profile we support (or no use_srtp extension at all).</summary>
    NoCommonSrtpProfile,

    /// <summary>The peer did not negotiate the extended master secret (RFC 7627), without which keys cannot be exported.</summary>
    NoExtendedMasterSecret,

    /// <summary>The peer sent a fatal alert.</summary>
    PeerAlert,

    /// <summary>The peer closed the association with close_notify.</summary>
    PeerClosed,

    /// <summary>We closed the transport (Close/Dispose).</summary>
    LocallyClosed,

    /// <summary>Any other protocol failure (malformed handshake, unsupported version, no common cipher suite).</summary>
    ProtocolError,
}
