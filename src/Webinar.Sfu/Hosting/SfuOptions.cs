using System.Net;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Tls;

namespace Webinar.Sfu.Hosting;

/// <summary>The node's own settings, bound from the <c>Sfu</c> configuration section.</summary>
internal sealed class SfuOptions
{
    public const string Section = "Sfu";

    /// <summary>Media region this node serves (e.g. <c>us-east-1</c>).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Node id as placed by the control plane; defaults to <c>{Region}-a</c>.</summary>
    public string? NodeId { get; set; }

    /// <summary>Signalling WebSocket port, bound on <see cref="ListenAddress"/>.</summary>
    public int WsPort { get; set; } = 8181;

    /// <summary>
    /// Address Kestrel binds the signalling WebSocket to: 127.0.0.1 by default; <c>0.0.0.0</c> in a container, or the
    /// node's own address when it runs in a network namespace of its own.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>UDP media port: one socket on it per entry of <see cref="MediaAddresses"/> (0: a free port each).</summary>
    public int UdpPort { get; set; } = 20000;

    /// <summary>
    /// ICE-TCP port (RFC 6544 passive candidates): one listener on it per entry of <see cref="MediaAddresses"/>;
    /// null uses <see cref="UdpPort"/>'s number (TCP and UDP ports are separate), 0 a free port each.
    /// </summary>
    public int? TcpPort { get; set; }

    /// <summary>Whether the node offers passive ICE-TCP candidates, for clients whose network blocks UDP.</summary>
    public bool IceTcp { get; set; } = true;

    /// <summary>
    /// The addresses the media plane listens on, like mediasoup's listenInfos: each an IP to bind and, behind NAT,
    /// the address to announce instead. Every reply leaves from the address and port its request was sent to.
    /// Empty (the default): every non-loopback IPv4 and global IPv6 address of the machine, plus 127.0.0.1.
    /// </summary>
    public List<MediaListenInfo> MediaAddresses { get; set; } = [];

    /// <summary>
    /// The media address (an announced address of <see cref="MediaAddresses"/>) other nodes relay to; null: the first
    /// non-loopback one.
    /// </summary>
    public string? RelayAddress { get; set; }

    /// <summary>
    /// Host in the signalling URL the node announces to the control plane; null: <see cref="ListenAddress"/>, or the
    /// machine's first non-loopback address when that is a wildcard.
    /// </summary>
    public string? AnnouncedIp { get; set; }

    /// <summary>Unauthenticated ICE-TCP connections are closed after this long without a valid ICE check.</summary>
    public TimeSpan IceTcpHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>ICE-TCP connections open at once; more are refused.</summary>
    public int MaxIceTcpConnections { get; set; } = 2000;

    /// <summary>
    /// Forwarded RTP datagrams the media thread hands the kernel in one sendmmsg(2) per UDP socket (Linux x64), flushed
    /// at the end of every receive burst; 1 sends each with its own sendto(2).
    /// </summary>
    public int MediaSendBatch { get; set; } = 64;

    /// <summary>PEM file with one or more PUBLIC KEY blocks for join token verification.</summary>
    public string? JoinTokenPublicKeyFile { get; set; }

    /// <summary>How often the key file's write time is checked for a rotation (also at most this often on an unknown key id).</summary>
    public TimeSpan JoinTokenKeyReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Live connections allowed per meeting (the meeting's MaxAttendees may lower it).</summary>
    public int MaxConnectionsPerMeeting { get; set; } = MeetingLimits.MaxAttendees;

    /// <summary>
    /// Live connections this node accepts over all its meetings (its capacity); a join beyond it is refused with
    /// <c>node-full</c> rather than degrading every meeting on the node. The heartbeat reports load against it.
    /// </summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Time a client has to send a valid join after the WebSocket opens.</summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a join waits for the MeetingCreated/ReplicaCreated event of its meeting.</summary>
    public TimeSpan PlacementWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a join then waits for the control plane's answer to GetMeetingPlacement.</summary>
    public TimeSpan PlacementQueryTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one attempt of the startup GetNodeMeetings query waits; failed attempts are retried with backoff.</summary>
    public TimeSpan NodeMeetingsQueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a revoked attendee is remembered when its meeting lives on: at least the control plane's
    /// JoinTokens:Lifetime, after which the attendee's token has expired anyway. The verifier's clock-skew allowance
    /// (30 s) is always added, so a token never works again in the seconds it is still accepted past its expiry.
    /// </summary>
    public TimeSpan RevocationRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a deleted meeting's tombstone is kept; later joins for it are refused by the control plane's answer.</summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest client frame accepted, in bytes.</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Outbound frames queued per connection before the client is dropped as too slow.</summary>
    public int MaxQueuedFrames { get; set; } = 1024;

    /// <summary>Outbound bytes queued per connection before the client is dropped as too slow (answers can be large).</summary>
    public long MaxQueuedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>m= sections one offer may have (a viewer needs one per stream it receives).</summary>
    public int MaxMediaSectionsPerOffer { get; set; } = 128;

    /// <summary>a=ssrc and a=ssrc-group lines one offer may have.</summary>
    public int MaxSsrcLinesPerOffer { get; set; } = 512;

    /// <summary>Tracks one connection may publish at once (camera, microphone, screen share, and one spare).</summary>
    public int MaxTracksPerPublisher { get; set; } = 4;

    /// <summary>
    /// Spare receive slots per kind a pre-negotiating client keeps (docs/signaling.md, "Pre-negotiated slots"): idle
    /// recvonly m-lines the node reserves an SSRC on, so a new stream starts on one without a renegotiation round trip.
    /// </summary>
    public int SpareReceiveSlots { get; set; } = 2;

    /// <summary>How long after a spare receive slot was used the node asks the client (renegotiate) for new spares.</summary>
    public TimeSpan SpareSlotTopUpDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a connection's media transport has, from its first offer, to complete ICE and DTLS.</summary>
    public TimeSpan MediaConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a connected media transport may stay silent (no authenticated STUN check, SRTP or SRTCP from its
    /// selected pair) before it is closed. 30 s, the consent lifetime of RFC 7675.
    /// </summary>
    public TimeSpan MediaSilenceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public string EffectiveNodeId => string.IsNullOrWhiteSpace(NodeId) ? Region + "-a" : NodeId;

    /// <summary>
    /// The signalling WebSocket over TLS 1.3 (<c>Sfu:Tls</c>: WEBINAR_TLS_CERT_FILE, WEBINAR_TLS_KEY_FILE,
    /// WEBINAR_SFU_WSS_PORT), on every address by default; when configured, the signalling URL is <c>wss://</c>.
    /// The plain WebSocket on <see cref="ListenAddress"/>:<see cref="WsPort"/> stays (loopback, local tools).
    /// </summary>
    public TlsListenOptions Tls { get; set; } = new() { Port = 8451 };

    /// <summary>
    /// The host name or address in the signalling URL (one the certificate names); null: <see cref="AnnouncedIp"/>,
    /// else <see cref="ListenAddress"/>, or the machine's first non-loopback address when that is a wildcard.
    /// </summary>
    public string? SignalingHost { get; set; }

    private string EffectiveSignalingHost => !string.IsNullOrWhiteSpace(SignalingHost)
        ? SignalingHost
        : !string.IsNullOrWhiteSpace(AnnouncedIp)
            ? AnnouncedIp
            : IPAddress.TryParse(ListenAddress, out var listen) && (listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any))
                ? Webinar.Sfu.Media.MediaAddressResolver.FirstReachable()
                : ListenAddress;

    public string SignalingUrl => Tls.Enabled
        ? $"wss://{UrlHost(EffectiveSignalingHost)}:{Tls.Port}/signal"
        : $"ws://{UrlHost(EffectiveSignalingHost)}:{WsPort}/signal";

    private static string UrlHost(string host) => IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
}

/// <summary>One media listen address: the IP to bind and, behind NAT, the address clients reach it at.</summary>
internal sealed class MediaListenInfo
{
    /// <summary>IP to bind (a specific address; <c>0.0.0.0</c> only where the host has one address, e.g. a container).</summary>
    public string Ip { get; set; } = "";

    /// <summary>Address announced in candidates instead of <see cref="Ip"/> (a NAT's public address); null: <see cref="Ip"/>.</summary>
    public string? AnnouncedAddress { get; set; }
}

