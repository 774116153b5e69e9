namespace Webinar.Contracts.Relay;

// Messages between SFU nodes that set up and drive the relay of a primary meeting's media to the nodes hosting its
// replicas. They are SENT to one node's queue (sfu-{nodeId}), never published. One RelayLink per pair of nodes
// carries every meeting between them: RTP/RTCP over UDP, SRTP-protected with the keys exchanged here (sealed to the
// receiving node), so a datagram that did not come from the peer node fails authentication and is dropped. Every
// message is signed by its sender (Trust/), and a message naming a node must be signed by that node.

/// <summary>
/// SRTP master key and salt one side protects with (profile as in DTLS-SRTP: 1 = AES-CM/HMAC-SHA1-80, 7 = AES-GCM),
/// sealed to the receiving node by <see cref="Trust.RelayKeySealer"/>: only that node can read them.
/// </summary>
public sealed record RelayKeys(ushort SrtpProfile, byte[] Sealed);

/// <summary>Request: open (or replace) the link between two nodes. The sender protects what it sends with <paramref name="Keys"/>.</summary>
public sealed record OpenRelayLink(Guid LinkId, string FromNodeId, string MediaHost, int MediaPort, RelayKeys Keys);

/// <summary>
/// Response to <see cref="OpenRelayLink"/>: the peer's media address and the keys it protects with. Not
/// <paramref name="Accepted"/> when both nodes asked for a link at once and the peer's own request wins.
/// </summary>
public sealed record RelayLinkOpened(Guid LinkId, bool Accepted, string NodeId, string MediaHost, int MediaPort, RelayKeys? Keys);

/// <summary>
/// A stream carried over a link: which SSRC it has there, its codec, and who publishes it. A simulcast stream carries
/// every layer, each on its own SSRC (<see cref="Layers"/>, lowest first; <paramref name="RelaySsrc"/> is the first's),
/// so the far node allocates layers for its own audience.
/// </summary>
public sealed record RelayedStream(
    string StreamId,
    Guid AttendeeId,
    string ExternalUserId,
    string Kind,
    uint RelaySsrc,
    string Codec,
    int PayloadType,
    int ClockRate,
    int? Channels,
    string? Fmtp,
    IReadOnlyDictionary<string, byte> ExtensionIds)
{
    /// <summary>The simulcast layers, lowest first; null for a single-stream track.</summary>
    public IReadOnlyList<RelayedLayer>? Layers { get; init; }
}

/// <summary>One simulcast layer of a relayed stream: its RID at the publisher and its SSRC on the link.</summary>
public sealed record RelayedLayer(string Rid, uint RelaySsrc);

/// <summary>A primary attendee, as replica audiences see it in presence.</summary>
public sealed record RelayedAttendee(Guid AttendeeId, string ExternalUserId);

/// <summary>Request from a replica's node: relay the primary's streams over link <paramref name="LinkId"/>. Idempotent.</summary>
public sealed record SubscribePrimary(Guid LinkId, string FromNodeId, Guid PrimaryMeetingId);

/// <summary>Response to <see cref="SubscribePrimary"/>: every stream of the primary as relayed now, and its roster.</summary>
public sealed record PrimarySubscription(
    Guid PrimaryMeetingId,
    bool Accepted,
    string? Reason,
    IReadOnlyList<RelayedStream> Streams,
    IReadOnlyList<RelayedAttendee> Attendees);

/// <summary>The replica's node no longer needs the primary's streams (its replicas there ended).</summary>
public sealed record UnsubscribePrimary(Guid LinkId, string FromNodeId, Guid PrimaryMeetingId);

/// <summary>Primary's node → replica's node: a stream of the primary is now relayed over the link.</summary>
public sealed record RelayStreamAdded(Guid LinkId, Guid PrimaryMeetingId, RelayedStream Stream);

/// <summary>Primary's node → replica's node: the stream ended.</summary>
public sealed record RelayStreamRemoved(Guid LinkId, Guid PrimaryMeetingId, string StreamId);

/// <summary>Primary's node → replica's node: a primary attendee joined or left (presence for replica audiences).</summary>
public sealed record RelayPresenceChanged(Guid LinkId, Guid PrimaryMeetingId, RelayedAttendee Attendee, bool Joined);

/// <summary>
/// Replica's node → primary's node: a promoted replica attendee publishes <paramref name="Stream"/> into the primary
/// over the link, as the primary attendee it names. <paramref name="Published"/> false ends it.
/// </summary>
public sealed record RelayPromotedStream(Guid LinkId, string FromNodeId, Guid PrimaryMeetingId, RelayedStream Stream, bool Published);

/// <summary>
/// Request, replica's node → primary's node: may this replica attendee speak in the primary as
/// <paramref name="Attendee"/>? The primary's node admits it against the primary's connection limit (a promoted
/// attendee counts against the primary's 250 wherever it is connected) and shows it in the primary's presence.
/// </summary>
public sealed record AdmitPromotion(Guid LinkId, string FromNodeId, Guid PrimaryMeetingId, RelayedAttendee Attendee);

/// <summary>Response to <see cref="AdmitPromotion"/>: admitted, or why not ("meeting-full", "already-connected", "unknown-link", "not-placed-here").</summary>
public sealed record PromotionAdmission(bool Admitted, string? Reason);

/// <summary>Replica's node → primary's node: a promotion admitted by <see cref="AdmitPromotion"/> ended (demoted or disconnected).</summary>
public sealed record RelayPromotionEnded(Guid LinkId, string FromNodeId, Guid PrimaryMeetingId, RelayedAttendee Attendee);
