namespace Webinar.Sfu.Media;

/// <summary>
/// Counters of the media loop. Written only by the media thread (so plain increments suffice); read by
/// diagnostics from any thread, where a slightly stale value is fine.
/// </summary>
internal sealed class MediaCounters
{
    public long DatagramsReceived;
    public long DatagramsSent;
    public long SendErrors;
    public long HandlerErrors;

    /// <summary>Datagrams that were not STUN, DTLS, RTP or RTCP, or failed to parse.</summary>
    public long Malformed;

    /// <summary>Datagrams from an address no transport knows, that were not a valid ICE check.</summary>
    public long UnknownSource;

    /// <summary>SRTP/SRTCP packets that failed authentication or replay checks.</summary>
    public long SrtpRejected;

    public long RtpForwarded;
    public long RtcpReceived;
    public long NacksAnswered;
    public long KeyframeRequestsSent;

    /// <summary>Valid-looking ICE checks from an address another transport or a relay link owns: dropped, never answered.</summary>
    public long SpoofedChecks;

    /// <summary>ICE-TCP connections accepted, and refused over the connection limit.</summary>
    public long TcpAccepted;
    public long TcpRefused;

    /// <summary>ICE-TCP frames (RFC 4571) that were empty or longer than the node accepts: skipped.</summary>
    public long TcpBadFrames;

    public MediaCountersSnapshot Snapshot() => new(
        Volatile.Read(ref DatagramsReceived),
        Volatile.Read(ref DatagramsSent),
        Volatile.Read(ref SendErrors),
        Volatile.Read(ref HandlerErrors),
        Volatile.Read(ref Malformed),
        Volatile.Read(ref UnknownSource),
        Volatile.Read(ref SrtpRejected),
        Volatile.Read(ref RtpForwarded),
        Volatile.Read(ref RtcpReceived),
        Volatile.Read(ref NacksAnswered),
        Volatile.Read(ref KeyframeRequestsSent),
        Volatile.Read(ref SpoofedChecks),
        Volatile.Read(ref TcpAccepted),
        Volatile.Read(ref TcpRefused),
        Volatile.Read(ref TcpBadFrames));
}

internal sealed record MediaCountersSnapshot(
    long DatagramsReceived,
    long DatagramsSent,
    long SendErrors,
    long HandlerErrors,
    long Malformed,
    long UnknownSource,
    long SrtpRejected,
    long RtpForwarded,
    long RtcpReceived,
    long NacksAnswered,
    long KeyframeRequestsSent,
    long SpoofedChecks,
    long TcpAccepted,
    long TcpRefused,
    long TcpBadFrames);
