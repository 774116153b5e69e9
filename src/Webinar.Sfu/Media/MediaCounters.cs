namespace Webinar.Sfu.Media;

/// <summary>
/// Counters of the media loop. Written only by the media thread (so plain increments suffice); read by
/// diagnostics from any thread, where a slightly stale value is fine, or on the loop thread for a consistent set
/// (<c>GET /diagnostics/media</c>). Every received datagram ends in exactly one disposition: it was handled
/// (<see cref="StunAnswered"/>, <see cref="DtlsReceived"/>, <see cref="RtpReceived"/>, <see cref="RtcpReceived"/>) or
/// dropped and counted (<see cref="Malformed"/>, <see cref="UnknownSource"/>, <see cref="NotKeyed"/>,
/// <see cref="UnknownSsrc"/>, <see cref="RtpNotAdmitted"/>, <see cref="SrtpRejected"/>, <see cref="HandlerErrors"/>), so their sum is
/// <see cref="DatagramsReceived"/>. The metrics exporter reads <see cref="Snapshot"/>.
/// </summary>
internal sealed class MediaCounters
{
    public long DatagramsReceived;
    public long DatagramsSent;
    public long BytesReceived;
    public long BytesSent;
    public long SendErrors;
    /// <summary>Datagrams whose handling threw (dropped).</summary>
    public long HandlerErrors;

    /// <summary>Timer ticks and posted commands that threw (not datagrams).</summary>
    public long LoopErrors;

    /// <summary>ICE checks answered, with a success or an error response.</summary>
    public long StunAnswered;

    /// <summary>DTLS records handed to a transport's DTLS association.</summary>
    public long DtlsReceived;

    /// <summary>RTP packets authenticated and handed to their producer.</summary>
    public long RtpReceived;

    /// <summary>
    /// Datagrams that were not STUN, DTLS, RTP or RTCP, STUN that failed the ICE checks, or RTP that failed to parse
    /// after SRTP.
    /// </summary>
    public long Malformed;

    /// <summary>RTP or RTCP from a peer whose transport has no SRTP keys yet (DTLS not done).</summary>
    public long NotKeyed;

    /// <summary>Authenticated RTCP datagrams with a malformed packet inside (counted in <see cref="RtcpReceived"/> too).</summary>
    public long RtcpMalformed;

    /// <summary>Datagrams from an address no transport knows, that were not a valid ICE check.</summary>
    public long UnknownSource;

    /// <summary>SRTP/SRTCP packets that failed authentication or replay checks.</summary>
    public long SrtpRejected;

    /// <summary>RTP from a connected peer on an SSRC it did not negotiate: dropped before any SRTP work.</summary>
    public long UnknownSsrc;

    /// <summary>
    /// Authenticated RTP relayed from another node for a promotion this node (the primary's) has not admitted (yet, or at
    /// all: it was refused): dropped before any consumer, so nobody here or on other replicas gets a packet of it.
    /// </summary>
    public long RtpNotAdmitted;

    /// <summary>SRTCP sender SSRCs forgotten because a peer used more than <see cref="MediaLimitsOptions.MaxSrtpStreams"/>.</summary>
    public long SrtpStreamsEvicted;

    public long RtpForwarded;
    /// <summary>SRTCP datagrams authenticated and handled.</summary>
    public long RtcpReceived;
    /// <summary>Packets resent in answer to NACKs.</summary>
    public long NacksAnswered;

    /// <summary>NACKed packets not resent because they were resent less than a resend interval ago (duplicates).</summary>
    public long RetransmissionsRepeated;

    /// <summary>NACKed packets not resent because the subscriber's retransmission budget was spent.</summary>
    public long RetransmissionsOverBudget;
    public long KeyframeRequestsSent;

    /// <summary>NACKs sent to publishers and to the far end of relay links, for gaps in what the node receives.</summary>
    public long NacksSent;

    /// <summary>Valid-looking ICE checks from an address another transport or a relay link owns: dropped, never answered.</summary>
    public long SpoofedChecks;

    /// <summary>ICE-TCP connections accepted, and refused over the connection limit.</summary>
    public long TcpAccepted;
    public long TcpRefused;

    /// <summary>ICE-TCP frames (RFC 4571) that were empty or longer than the node accepts: skipped.</summary>
    public long TcpBadFrames;

    /// <summary>
    /// Retransmissions received on a publisher's RTX stream (RFC 4588) and restored as the original packet (counted in
    /// <see cref="RtpReceived"/> too).
    /// </summary>
    public long RtxRepaired;

    /// <summary>RTX packets restored but not needed: the node had the original already (a sender probing with old packets).</summary>
    public long RtxDuplicates;

    /// <summary>
    /// RTX packets dropped: a payload shorter than the 2-byte OSN, a payload type that is no negotiated rtx (unknown
    /// apt), or a stream whose original is not known yet (counted in <see cref="Malformed"/> too).
    /// </summary>
    public long RtxMalformed;

    public MediaCountersSnapshot Snapshot() => new(
        Volatile.Read(ref DatagramsReceived),
        Volatile.Read(ref DatagramsSent),
        Volatile.Read(ref SendErrors),
        Volatile.Read(ref HandlerErrors),
        Volatile.Read(ref LoopErrors),
        Volatile.Read(ref StunAnswered),
        Volatile.Read(ref DtlsReceived),
        Volatile.Read(ref RtpReceived),
        Volatile.Read(ref Malformed),
        Volatile.Read(ref NotKeyed),
        Volatile.Read(ref RtcpMalformed),
        Volatile.Read(ref UnknownSource),
        Volatile.Read(ref SrtpRejected),
        Volatile.Read(ref UnknownSsrc),
        Volatile.Read(ref SrtpStreamsEvicted),
        Volatile.Read(ref RtpForwarded),
        Volatile.Read(ref RtcpReceived),
        Volatile.Read(ref NacksAnswered),
        Volatile.Read(ref RetransmissionsRepeated),
        Volatile.Read(ref RetransmissionsOverBudget),
        Volatile.Read(ref KeyframeRequestsSent),
        Volatile.Read(ref NacksSent),
        Volatile.Read(ref SpoofedChecks),
        Volatile.Read(ref TcpAccepted),
        Volatile.Read(ref TcpRefused),
        Volatile.Read(ref TcpBadFrames),
        Volatile.Read(ref RtxRepaired),
        Volatile.Read(ref RtxDuplicates),
        Volatile.Read(ref RtxMalformed))
    {
        RtpNotAdmitted = Volatile.Read(ref RtpNotAdmitted),
    };
}

internal sealed record MediaCountersSnapshot(
    long DatagramsReceived,
    long DatagramsSent,
    long SendErrors,
    long HandlerErrors,
    long LoopErrors,
    long StunAnswered,
    long DtlsReceived,
    long RtpReceived,
    long Malformed,
    long NotKeyed,
    long RtcpMalformed,
    long UnknownSource,
    long SrtpRejected,
    long UnknownSsrc,
    long SrtpStreamsEvicted,
    long RtpForwarded,
    long RtcpReceived,
    long NacksAnswered,
    long RetransmissionsRepeated,
    long RetransmissionsOverBudget,
    long KeyframeRequestsSent,
    long NacksSent,
    long SpoofedChecks,
    long TcpAccepted,
    long TcpRefused,
    long TcpBadFrames,
    long RtxRepaired,
    long RtxDuplicates,
    long RtxMalformed)
{
    /// <summary>RTP of a promotion from another node not admitted here (yet): dropped (<see cref="MediaCounters.RtpNotAdmitted"/>).</summary>
    public long RtpNotAdmitted { get; init; }

    /// <summary>Datagrams handled: ICE checks answered, DTLS records, authenticated RTP and RTCP.</summary>
    public long Handled => StunAnswered + DtlsReceived + RtpReceived + RtcpReceived;

    /// <summary>Datagrams dropped, each counted once under its reason.</summary>
    public long Dropped => Malformed + UnknownSource + NotKeyed + UnknownSsrc + RtpNotAdmitted + SrtpRejected + SpoofedChecks + HandlerErrors;
}
