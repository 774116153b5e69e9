namespace Webinar.Sfu.Sessions;

// The contract between signalling (this folder and Signaling/) and the media plane (Media/).
//
// Signalling owns: the WebSocket, join tokens, admission (capacity, one connection per attendee), presence,
// promote/demote validation, and what each client is told. Media owns: ICE, DTLS, SRTP, RTP, routers,
// producers/consumers, relays between nodes, and which stream goes on which transceiver.
//
// Threading:
// - IMediaPlane.OpenMeeting and IMeetingMedia.AddPeer are called from signalling threads, possibly concurrently
//   for different meetings or peers; they must return quickly (no network waits).
// - For one IPeerMedia, signalling never overlaps calls: AnswerAsync, PromoteAsync, DemoteAsync and DisposeAsync
//   are awaited one at a time, in the order the client's frames arrived. DisposeAsync is the last call.
// - IMeetingMedia.DisposeAsync is called once, after the meeting was deleted and after every peer was disposed.
// - Listener methods may be called from any thread, at any time until the peer (or meeting) is disposed; they
//   never block and never throw (signalling only queues frames). Calls after disposal are ignored.
// - Nothing on the packet path ever calls into signalling except these notifications.

/// <summary>Kind of a media stream.</summary>
internal enum MediaKind
{
    Audio,
    Video,
}

/// <summary>The one mapping between <see cref="MediaKind"/> and its name in SDP m-lines, signalling frames and relay messages.</summary>
internal static class MediaKindNames
{
    public const string Audio = "audio";
    public const string Video = "video";

    public static string Of(MediaKind kind) => kind == MediaKind.Audio ? Audio : Video;

    /// <summary>"audio" is audio; any other name is taken for video (a relayed stream is one or the other).</summary>
    public static MediaKind Parse(string name) => name == Audio ? MediaKind.Audio : MediaKind.Video;

    /// <summary>An m-line's kind: false for anything but audio and video (application, ...).</summary>
    public static bool TryParse(string name, out MediaKind kind)
    {
        kind = Parse(name);
        return name is Audio or Video;
    }

    /// <summary>The <see cref="MediaKinds"/> flag of one kind.</summary>
    public static MediaKinds AsFlag(MediaKind kind) => kind == MediaKind.Audio ? MediaKinds.Audio : MediaKinds.Video;
}

/// <summary>Kinds of media a peer may send.</summary>
[Flags]
internal enum MediaKinds
{
    None = 0,
    Audio = 1,
    Video = 2,
}

/// <summary>
/// One published track as subscribers see it: <paramref name="StreamId"/> is stable while the track lives and
/// unique within a meeting; <paramref name="AttendeeId"/> and <paramref name="ExternalUserId"/> name the publisher
/// (for a promoted replica attendee: the primary attendee named by its promotion token).
/// </summary>
internal sealed record MediaStreamInfo(string StreamId, Guid AttendeeId, string ExternalUserId, MediaKind Kind);

/// <summary>The client's recvonly transceiver <paramref name="Mid"/> carries <paramref name="Stream"/>.</summary>
internal sealed record MediaSlot(string Mid, MediaStreamInfo Stream);

/// <summary>Why the media plane refused an operation.</summary>
internal enum MediaRefusal
{
    None,

    /// <summary>The offer could not be parsed or is unusable (no BUNDLE, no ICE credentials, no fingerprint, ...).</summary>
    BadOffer,

    /// <summary>The peer asked to send something it may not send.</summary>
    NotAllowed,

    /// <summary>The media plane cannot serve it now (no relay to the primary's node, no UDP socket, ...).</summary>
    Unavailable,

    /// <summary>The primary attendee already holds a place in the primary (decided by the primary's node).</summary>
    AlreadyConnected,

    /// <summary>The primary (on another node) has no room for a promoted attendee.</summary>
    MeetingFull,

    /// <summary>The peer named a stream it does not receive.</summary>
    UnknownStream,

    /// <summary>The primary's node no longer hosts the primary (it was deleted).</summary>
    MeetingGone,

    /// <summary>The promotion's primary attendee was deleted (decided by the primary's node).</summary>
    AttendeeDeleted,
}

/// <summary>Refusal messages said on more than one path (a promotion decided on this node or on the primary's).</summary>
internal static class RefusalMessages
{
    public const string PrimaryFull = "The primary meeting has reached its connection limit.";
    public const string PrimaryAttendeeConnected = "That primary attendee is already connected.";
    public const string RelayNotUp = "The relay to the primary's node is not up; try again shortly.";
}

/// <summary>The outcome of an offer: the answer SDP and slot assignments, or a refusal with a message.</summary>
internal sealed record MediaAnswer(string? Sdp, IReadOnlyList<MediaSlot> Slots, MediaRefusal Refusal, string? Message)
{
    public static MediaAnswer Accepted(string sdp, IReadOnlyList<MediaSlot> slots) => new(sdp, slots, MediaRefusal.None, null);

    public static MediaAnswer Refused(MediaRefusal refusal, string message) => new(null, [], refusal, message);
}

/// <summary>The outcome of a promote or demote.</summary>
internal readonly record struct MediaOutcome(MediaRefusal Refusal, string? Message)
{
    public static MediaOutcome Ok => default;

    public bool Succeeded => Refusal == MediaRefusal.None;
}

/// <summary>
/// What a promote did: refused (<see cref="Outcome"/>), or the peer publishes into the primary now. A primary on another
/// node admits the attendee against its limit afterwards (admit speculatively, undo on refusal): <see cref="Admission"/>
/// completes with that node's decision (at once, <see cref="MediaOutcome.Ok"/>, for a primary here) and never faults;
/// signalling undoes a refused promotion exactly as a demotion.
/// </summary>
internal sealed record PromotionOutcome(MediaOutcome Outcome, Task<MediaOutcome> Admission)
{
    private static readonly Task<MediaOutcome> Admitted = Task.FromResult(MediaOutcome.Ok);

    /// <summary>Done here, nothing left to decide elsewhere (a primary on this node, or a refusal).</summary>
    public static PromotionOutcome Decided(MediaOutcome outcome) => new(outcome, Admitted);
}

/// <summary>Where a meeting lives: its primary and the primary's node when it is a replica.</summary>
internal sealed record MeetingMediaPlacement(Guid MeetingId, string NodeId, Guid? PrimaryMeetingId, string? PrimaryNodeId)
{
    public bool IsReplica => PrimaryMeetingId is not null;
}

/// <summary>One signalling connection's identity and what it may publish (none for replica attendees).</summary>
internal sealed record MediaPeer(Guid ConnectionId, Guid MeetingId, Guid AttendeeId, string ExternalUserId, MediaKinds CanPublish)
{
    /// <summary>
    /// The client pre-negotiates (join <c>preNegotiate</c>): it keeps spare recvonly slots the node starts new streams
    /// on without a renegotiation (announced by <see cref="IPeerMediaListener.OnSlotsChanged"/>), and, in a replica,
    /// offers send slots that carry its tracks once promoted, without a re-offer.
    /// </summary>
    public bool PreNegotiated { get; init; }
}

/// <summary>
/// A replica attendee promoted to speak in <paramref name="PrimaryMeetingId"/> as the primary attendee
/// <paramref name="AttendeeId"/>/<paramref name="ExternalUserId"/>, allowed to publish <paramref name="CanPublish"/>.
/// </summary>
internal sealed record MediaPromotion(Guid PrimaryMeetingId, Guid AttendeeId, string ExternalUserId, MediaKinds CanPublish);

/// <summary>The node's media plane: one per process. Registered by the Media folder's AddMedia().</summary>
internal interface IMediaPlane
{
    /// <summary>
    /// Opens the media of a meeting placed on this node (a router for a primary; for a replica, a router fed from
    /// the primary's, in process when the primary is on this node, by relay otherwise). Called once per meeting.
    /// </summary>
    IMeetingMedia OpenMeeting(MeetingMediaPlacement placement, IMeetingMediaListener listener);
}

/// <summary>Media of one meeting on this node.</summary>
internal interface IMeetingMedia : IAsyncDisposable
{
    /// <summary>
    /// Adds a peer (one per signalling connection, before its first offer). A peer sends nothing until an offer was
    /// answered; it receives every stream of the meeting except those whose AttendeeId is its own (or the one it is
    /// promoted as), as far as its recvonly transceivers allow.
    /// </summary>
    IPeerMedia AddPeer(MediaPeer peer, IPeerMediaListener listener);
}

/// <summary>Media of one connection: its WebRTC transport, its producers and its consumers.</summary>
internal interface IPeerMedia : IAsyncDisposable
{
    /// <summary>
    /// Answers the client's offer (the client always offers; the node is ICE-lite and DTLS passive). The answer
    /// assigns remote streams to the offer's recvonly transceivers (by mid) and rejects m-lines it does not use.
    /// Send m-lines of kinds the peer may not publish are answered but not published: their tracks wait for a promotion.
    /// Must not throw for a bad offer: returns <see cref="MediaRefusal.BadOffer"/>.
    /// </summary>
    ValueTask<MediaAnswer> AnswerAsync(string offerSdp, CancellationToken cancellationToken);

    /// <summary>
    /// Lets a replica peer publish into its primary as the promoted attendee, over its existing transport. Signalling
    /// has already checked the token and the room (and the primary's capacity when the primary is here). The client
    /// then sends a new offer with its send tracks (or attaches them to its send slots). When the primary is on another
    /// node, the implementation carries the tracks there by relay at once and asks that node to admit the attendee:
    /// <see cref="PromotionOutcome.Admission"/> says what it decided.
    /// </summary>
    ValueTask<PromotionOutcome> PromoteAsync(MediaPromotion promotion, CancellationToken cancellationToken);

    /// <summary>Stops everything the promotion started; the peer is a plain replica attendee again. Idempotent.</summary>
    ValueTask<MediaOutcome> DemoteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Caps the simulcast layers the peer receives of one stream (<c>set-preferred-layers</c>, e.g. for a thumbnail);
    /// <see cref="MediaRefusal.UnknownStream"/> when the peer receives no such stream.
    /// </summary>
    ValueTask<MediaOutcome> SetPreferredLayersAsync(string streamId, int spatialLayer, int? temporalLayer, CancellationToken cancellationToken) =>
        new(new MediaOutcome(MediaRefusal.Unavailable, "This media plane has no layers."));
}

/// <summary>Upward notifications of one meeting's media. Never blocks, never throws.</summary>
internal interface IMeetingMediaListener
{
    /// <summary>A stream became available to subscribers of this meeting (a local producer, or one relayed from the primary).</summary>
    void OnStreamPublished(MediaStreamInfo stream);

    /// <summary>A stream announced by <see cref="OnStreamPublished"/> is gone (producer closed, relay broken).</summary>
    void OnStreamUnpublished(MediaStreamInfo stream);
}

/// <summary>The <c>reason</c> given to <see cref="IPeerMediaListener.OnTransportClosed"/> when it needs its own wire code.</summary>
internal static class MediaCloseReasons
{
    /// <summary>ICE and DTLS did not complete within the connect timeout after the first offer.</summary>
    public const string ConnectTimeout = "connect-timeout";
}

/// <summary>Upward notifications of one peer's media. Never blocks, never throws.</summary>
internal interface IPeerMediaListener
{
    /// <summary>
    /// The peer needs a new offer with at least <paramref name="audio"/> audio and <paramref name="video"/> video
    /// recvonly transceivers (streams came or went). Signalling sends a <c>renegotiate</c> frame.
    /// </summary>
    void OnRenegotiationNeeded(int audio, int video);

    /// <summary>The transport failed or closed (ICE consent lost, DTLS alert, ...); signalling ends the session.</summary>
    void OnTransportClosed(string reason);

    /// <summary>
    /// Pre-negotiated peers: a stream started on a spare slot, or left one, without a new offer. <paramref name="slots"/>
    /// is the whole current map (which mid carries which stream); signalling sends a <c>slots</c> frame.
    /// </summary>
    void OnSlotsChanged(IReadOnlyList<MediaSlot> slots)
    {
    }

    /// <summary>The peer's downlink cannot carry this video stream's lowest layer: it gets audio only (<c>video-paused</c>).</summary>
    void OnVideoPaused(string streamId, string reason) { }

    /// <summary>The video stream flows to the peer again (<c>video-resumed</c>).</summary>
    void OnVideoResumed(string streamId) { }
}
