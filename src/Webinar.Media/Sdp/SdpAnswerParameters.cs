using System.Net;
using Webinar.Media.Dtls;

namespace Webinar.Media.Sdp;

/// <summary>What the node puts into an SDP answer besides what it reads from the offer.</summary>
/// <param name="IceUfrag">The node's ICE username fragment for this peer connection.</param>
/// <param name="IcePwd">The node's ICE password (at least 22 characters, RFC 8839).</param>
/// <param name="Fingerprint">The node's DTLS certificate fingerprint.</param>
/// <param name="CandidateAddress">The announced IP of the node's UDP media socket.</param>
/// <param name="CandidatePort">The node's UDP media port.</param>
public sealed record SdpAnswerParameters(
    string IceUfrag,
    string IcePwd,
    DtlsFingerprint Fingerprint,
    IPAddress CandidateAddress,
    int CandidatePort)
{
    /// <summary>o= session id; keep it for the life of the peer connection.</summary>
    public ulong SessionId { get; init; } = 1;

    /// <summary>o= session version; increase it on every new answer in the same session.</summary>
    public ulong SessionVersion { get; init; } = 1;

    /// <summary>Whether the node receives media the client offers to send (the attendee may publish).</summary>
    public bool AcceptIncomingMedia { get; init; } = true;

    /// <summary>mid → the stream the node sends on that m-line. A mid without an entry gets nothing from the node.</summary>
    public IReadOnlyDictionary<string, SdpOutgoingStream> OutgoingStreams { get; init; } = new Dictionary<string, SdpOutgoingStream>();

    /// <summary>
    /// The candidates every accepted m-line carries; null: one host UDP candidate at
    /// <see cref="CandidateAddress"/>:<see cref="CandidatePort"/>.
    /// </summary>
    public IReadOnlyList<SdpCandidate>? Candidates { get; init; }
}

/// <summary>
/// A stream the node sends: written as a=msid and a=ssrc cname/msid lines in the answer. <see cref="RtxSsrc"/> (0:
/// none) is its retransmission stream, written with an a=ssrc-group:FID when the section negotiated rtx.
/// </summary>
public sealed record SdpOutgoingStream(uint Ssrc, string Cname, string StreamId, string TrackId)
{
    public uint RtxSsrc { get; init; }
}

/// <summary>The transport parameters of the remote side, read from its SDP (the BUNDLE transport).</summary>
public sealed record SdpRemoteTransport(string IceUfrag, string IcePwd, DtlsFingerprint Fingerprint, string Setup);
