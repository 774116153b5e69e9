using System.Net;
using Webinar.Media.Dtls;

namespace Webinar.Connector.Client;

/// <summary>Settings of one <see cref="WebRtcClient"/>; the defaults suit loopback load runs and tests.</summary>
public sealed record WebRtcClientOptions
{
    public static WebRtcClientOptions Default { get; } = new();

    /// <summary>Address the UDP socket binds to (any port). Loopback by default.</summary>
    public IPAddress LocalAddress { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// The DTLS certificate. Null makes a fresh one per client; load runs with many clients may share one
    /// (only its fingerprint identifies it, and each client still has its own keys per association).
    /// </summary>
    public DtlsCertificate? Certificate { get; init; }

    /// <summary>DTLS settings (handshake timeout, SRTP profiles offered or preferred).</summary>
    public DtlsTransportOptions Dtls { get; init; } = DtlsTransportOptions.Default;

    /// <summary>Video: a key frame every this many frames (and whenever the peer asks with PLI or FIR).</summary>
    public int KeyframeInterval { get; init; } = 60;

    /// <summary>Video: a key frame is this many times the size of a delta frame.</summary>
    public int KeyframeSizeFactor { get; init; } = 3;

    /// <summary>How often RTCP receiver reports go out for what the client receives.</summary>
    public TimeSpan ReceiverReportInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often transport-wide congestion control feedback (RTCP transport-cc) goes out for what the client receives,
    /// when the answer negotiated the transport-wide sequence number extension; a browser sends it about every 100 ms.
    /// Zero sends none.
    /// </summary>
    public TimeSpan TransportFeedbackInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>CNAME of every SSRC the client sends; random when null.</summary>
    public string? Cname { get; init; }

    /// <summary>
    /// Load generators: after the handshake, count received RTP by its header (sequence number, timestamp and SSRC
    /// travel in the clear under SRTP) instead of authenticating and decrypting it. Such packets are not authenticated,
    /// <see cref="WebRtcClient.RtpReceived"/> is not raised for them and key frames are not recognised; RTCP is still
    /// decrypted, and receiver reports still go out.
    /// </summary>
    public bool HeaderOnlyReceive { get; init; }

    /// <summary>
    /// Ask for lost video packets again (RTCP generic NACK, RFC 4585), as browsers do: at once, then every round trip
    /// up to ten times. Not with <see cref="HeaderOnlyReceive"/>, whose load runs count loss instead of repairing it.
    /// </summary>
    public bool SendNacks { get; init; } = true;

    /// <summary>
    /// Offer rtx (RFC 4588, payload type 97, apt=96) on video tracks, with an FID group for a sending one: when the
    /// answer accepts it, NACKed packets are resent on the track's RTX stream. Off by default.
    /// </summary>
    public bool OfferRtx { get; init; }

    /// <summary>
    /// Load generators: serve this client's socket and timers from the shared threads of a
    /// <see cref="ClientReceiveGroup"/> instead of a receive thread of its own.
    /// </summary>
    public ClientReceiveGroup? ReceiveGroup { get; init; }

    /// <summary>Socket receive buffer; a subscriber of a 1.5 Mbit/s stream wants some headroom.</summary>
    public int ReceiveBufferSize { get; init; } = 1 << 20;
}
