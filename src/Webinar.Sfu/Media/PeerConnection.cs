using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// The media of one signalling connection: its <see cref="WebRtcTransport"/>, the producers it publishes (into its
/// own meeting, or into the primary while promoted) and the consumers that fill its recvonly transceivers. Media state
/// is read and changed only on the media loop, so negotiation never races the packet path; parsing the offer and
/// writing the answer happen off it.
/// </summary>
internal sealed class PeerConnection : IPeerMedia, IWebRtcTransportListener
{
    private const string Cname = "webinar-sfu";

    private readonly NodeMediaPlane _plane;
    private readonly Router _router;
    private readonly MediaPeer _peer;
    private readonly IPeerMediaListener _listener;
    private readonly Dictionary<string, Producer> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Consumer> _consumers = new(StringComparer.Ordinal);
    private readonly ulong _sessionId = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
    private readonly SpareReceiveSlots? _spares;
    private Dictionary<string, SendSlot> _sendSlots = new(StringComparer.Ordinal);
    private bool _negotiating;
    private bool _slotsChanged;
    private ITimer? _topUp;
    private ulong _sessionVersion;
    private int _tracksPublished;

    /// <summary>Counts promotions, so a late admission answer acts only on the promotion it was asked for. Loop thread.</summary>
    private long _promotions;
    private WebRtcTransport? _transport;
    private Router _publishRouter;
    private ProducerOwner _publishAs;
    private MediaKinds _canPublish;
    private bool _disposed;

    public PeerConnection(NodeMediaPlane plane, Router router, MediaPeer peer, IPeerMediaListener listener)
    {
        _plane = plane;
        _router = router;
        _peer = peer;
        _listener = listener;
        _publishRouter = router;
        _publishAs = new ProducerOwner(peer.MeetingId, peer.AttendeeId, peer.ExternalUserId);
        _canPublish = peer.CanPublish;
        _spares = peer.PreNegotiated ? new SpareReceiveSlots(plane.Negotiation.SpareReceiveSlots) : null;
    }

    private MediaWorker Node => _plane.Node;

    /// <summary>
    /// Parses and checks the offer and writes the answer off the media loop (a large offer must not stall every
    /// meeting's packets); only the two steps that read or change media state run on the loop: choosing what each
    /// m= line carries, and applying the answer.
    /// </summary>
    public async ValueTask<MediaAnswer> AnswerAsync(string offerSdp, CancellationToken cancellationToken)
    {
        if (!TryReadOffer(offerSdp, out var offer, out var remote, out var refusal))
        {
            return refusal;
        }

        var prepared = await Node.Loop.InvokeAsync(() => Prepare(offer, remote)).ConfigureAwait(false);
        if (prepared.Refusal is not null)
        {
            return prepared.Refusal;
        }

        SessionDescription answer;
        string text;
        try
        {
            if (!SdpAnswerBuilder.TryBuild(offer, prepared.Parameters!, out answer, out var error))
            {
                await Node.Loop.InvokeAsync(AbandonAnswer).ConfigureAwait(false);
                return MediaAnswer.Refused(MediaRefusal.BadOffer, error);
            }

            text = SdpWriter.Write(answer);
        }
        catch (Exception)
        {
            await Node.Loop.InvokeAsync(AbandonAnswer).ConfigureAwait(false);
            throw;
        }

        var slots = await Node.Loop.InvokeAsync(() => Apply(offer, answer, prepared)).ConfigureAwait(false);
        return slots is null
            ? MediaAnswer.Refused(MediaRefusal.Unavailable, "The transport closed while the offer was answered; join again.")
            : MediaAnswer.Accepted(text, slots);
    }

    /// <summary>
    /// Publishes into the primary at once. For a primary on another node the tracks are relayed there at once too, and
    /// its node is asked to admit the attendee against the primary's limit without waiting for the answer (admit
    /// speculatively, undo on refusal): that node holds the relayed media until it has admitted the attendee, and
    /// <see cref="PromotionOutcome.Admission"/> carries its decision for signalling to undo a refusal.
    /// </summary>
    public async ValueTask<PromotionOutcome> PromoteAsync(MediaPromotion promotion, CancellationToken cancellationToken)
    {
        var (outcome, intoRemote, epoch) = await Node.Loop.InvokeAsync(() =>
        {
            var remote = _router.Primary is { IsRemotePrimary: true } primary && primary.MeetingId == promotion.PrimaryMeetingId;
            var result = remote && _plane.Relay is null
                ? new MediaOutcome(MediaRefusal.Unavailable, "This node has no relay to the primary's node.")
                : Promote(promotion);
            return (result, remote, _promotions);
        }).ConfigureAwait(false);
        if (!outcome.Succeeded || !intoRemote)
        {
            return PromotionOutcome.Decided(outcome);
        }

        var attendee = new ProducerOwner(promotion.PrimaryMeetingId, promotion.AttendeeId, promotion.ExternalUserId);
        return new PromotionOutcome(outcome, AdmitAsync(attendee, epoch));
    }

    /// <summary>
    /// The primary's node's decision on a promotion published already; on a refusal the promotion's relaying stops here
    /// at once (signalling then demotes). Never faults: no answer in time is a refusal too.
    /// </summary>
    private async Task<MediaOutcome> AdmitAsync(ProducerOwner attendee, long epoch)
    {
        MediaOutcome admission;
        try
        {
            admission = await _plane.Relay!.AdmitPromotionAsync(attendee.MeetingId, attendee, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            admission = new MediaOutcome(MediaRefusal.Unavailable, "The primary's node could not be asked to admit the promotion.");
        }

        await Node.Loop.InvokeAsync(() =>
        {
            var current = !_disposed && _promotions == epoch && _publishRouter.MeetingId == attendee.MeetingId && _publishAs == attendee;
            if (!admission.Succeeded && current)
            {
                // Still this promotion (not demoted and promoted again meanwhile): nothing more goes toward the primary.
                Demote();
            }
            else if (admission.Succeeded && !current && !(_publishRouter.MeetingId == attendee.MeetingId && _publishAs == attendee))
            {
                // Admitted after the promotion ended here: its RelayPromotionEnded may have overtaken the request, so the
                // place is released again (idempotent on the primary's node).
                _plane.Relay?.PromotionEnded(attendee.MeetingId, attendee);
            }

            return true;
        }).ConfigureAwait(false);

        return admission;
    }

    public ValueTask<MediaOutcome> DemoteAsync(CancellationToken cancellationToken) =>
        new(Node.Loop.InvokeAsync(Demote));

    public ValueTask<MediaOutcome> SetPreferredLayersAsync(string streamId, int spatialLayer, int? temporalLayer, CancellationToken cancellationToken) =>
        new(Node.Loop.InvokeAsync(() =>
        {
            foreach (var consumer in _consumers.Values)
            {
                if (consumer.Producer.StreamId == streamId && !consumer.IsClosed)
                {
                    consumer.PreferredSpatialLayer = spatialLayer;
                    consumer.PreferredTemporalLayer = temporalLayer ?? int.MaxValue;
                    return MediaOutcome.Ok;
                }
            }

            return new MediaOutcome(MediaRefusal.UnknownStream, "This connection receives no stream with that streamId.");
        }));

    public void OnVideoPaused(Consumer consumer) => _listener.OnVideoPaused(consumer.Producer.StreamId, "bandwidth");

    public void OnVideoResumed(Consumer consumer) => _listener.OnVideoResumed(consumer.Producer.StreamId);

    public async ValueTask DisposeAsync() => await Node.Loop.InvokeAsync(() =>
    {
        _disposed = true;
        _topUp?.Dispose();
        _topUp = null;
        Unpublish();
        EndRemotePromotion();
        _router.Leave(this);
        _transport?.Close("left");
        return true;
    }).ConfigureAwait(false);

    // ---- negotiation (loop thread) ----

    /// <summary>Any thread: the offer parsed within the node's limits, its transport, and its tracks counted.</summary>
    private bool TryReadOffer(string offerSdp, out SessionDescription offer, out SdpRemoteTransport remote, out MediaAnswer refusal)
    {
        var settings = _plane.Negotiation;
        remote = null!;
        refusal = null!;
        if (!SdpParser.TryParse(offerSdp, settings.OfferLimits, out offer, out var error)
            || !SdpAnswerBuilder.TryCheckOffer(offer, out remote, out error))
        {
            refusal = MediaAnswer.Refused(MediaRefusal.BadOffer, error);
            return false;
        }

        var sending = 0;
        foreach (var media in offer.Media)
        {
            if (!media.IsRejected && media.Kind is "audio" or "video" && media.Direction is SdpDirection.SendOnly or SdpDirection.SendRecv)
            {
                sending++;
            }
        }

        if (sending > settings.MaxTracksPerPublisher)
        {
            refusal = MediaAnswer.Refused(MediaRefusal.BadOffer,
                $"The offer sends {sending} tracks; a connection may publish at most {settings.MaxTracksPerPublisher}.");
            return false;
        }

        return true;
    }

    /// <summary>Loop thread: the prepared answer was never sent; streams that came meanwhile go to the spares the client holds.</summary>
    private bool AbandonAnswer()
    {
        _negotiating = false;
        PlaceOnSpares(notify: true);
        return true;
    }

    private sealed record PreparedAnswer(SdpAnswerParameters? Parameters, Dictionary<string, SlotAssignment>? Assignments, MediaAnswer? Refusal)
    {
        /// <summary>The spare receive slots the answer reserves an SSRC on (pre-negotiating clients): mid, kind, SSRC.</summary>
        public List<(string Mid, MediaKind Kind, uint Ssrc, uint RtxSsrc)> Spares { get; init; } = [];
    }

    /// <summary>Loop thread: the transport (created on the first offer) and which stream each recvonly m= line carries.</summary>
    private PreparedAnswer Prepare(SessionDescription offer, SdpRemoteTransport remote)
    {
        if (_disposed)
        {
            return new PreparedAnswer(null, null, MediaAnswer.Refused(MediaRefusal.Unavailable, "The connection is closing."));
        }

        if (_transport is null)
        {
            _transport = new WebRtcTransport(Node, remote.Fingerprint, remote.IceUfrag, this, _plane.Negotiation);
            Node.Register(_transport);
        }
        else if (_transport.IsClosed)
        {
            return new PreparedAnswer(null, null, MediaAnswer.Refused(MediaRefusal.Unavailable, "The transport is closed; join again."));
        }
        else if (!string.Equals(_transport.Ice.RemoteUfrag, remote.IceUfrag, StringComparison.Ordinal))
        {
            return new PreparedAnswer(null, null, MediaAnswer.Refused(MediaRefusal.BadOffer, "ICE restarts are not supported: join again for a new connection."));
        }

        var assignments = AssignSlots(offer);
        var outgoing = new Dictionary<string, SdpOutgoingStream>(StringComparer.Ordinal);
        foreach (var (mid, assignment) in assignments)
        {
            // Only node-made ids: the publisher's attendee id and the node's stream id, never a client's text.
            outgoing[mid] = new SdpOutgoingStream(assignment.Ssrc, Cname, assignment.Producer.Owner.AttendeeId.ToString("N"), assignment.Producer.StreamId)
            {
                RtxSsrc = assignment.RtxSsrc,
            };
        }

        var spares = ReserveSpares(offer, assignments, outgoing);
        _negotiating = true;

        var parameters = new SdpAnswerParameters(_transport.Ice.LocalCredentials.Ufrag, _transport.Ice.LocalCredentials.Password,
            Node.Certificate.Fingerprint, Node.Candidates.DefaultAddress, Node.Candidates.DefaultPort)
        {
            Candidates = Node.Candidates.All,
            SessionId = _sessionId,
            SessionVersion = ++_sessionVersion,
            AcceptIncomingMedia = _canPublish != MediaKinds.None || AcceptsSendSlots,
            OutgoingStreams = outgoing,
        };
        _transport.TransportWideSequenceExtensionId = FindExtensionId(offer, RtpExtensionUris.TransportWideSequenceNumber);
        _transport.MidExtensionId = FindExtensionId(offer, RtpExtensionUris.Mid);
        _transport.RidExtensionId = FindExtensionId(offer, RtpExtensionUris.Rid);
        _transport.RepairedRidExtensionId = FindExtensionId(offer, RtpExtensionUris.RepairedRid);
        return new PreparedAnswer(parameters, assignments, null) { Spares = spares };
    }

    /// <summary>Loop thread: consumers and producers as the answer says; null when the transport went meanwhile.</summary>
    private List<MediaSlot>? Apply(SessionDescription offer, SessionDescription answer, PreparedAnswer prepared)
    {
        _negotiating = false;
        if (_disposed || _transport is not { IsClosed: false })
        {
            return null;
        }

        var slots = ApplyConsumers(prepared.Assignments!, answer);
        ApplyProducers(offer, answer);
        if (_spares is null)
        {
            return slots;
        }

        ApplySpares(prepared.Spares, answer);
        // Streams that came while the answer was written start on its spare slots; the answer's slot map says so.
        PlaceOnSpares(notify: false);
        return CurrentSlots();
    }

    /// <summary>What a recvonly m= line carries: the stream, the consumer's SSRC and, for video, its RTX SSRC (used if the line negotiated rtx).</summary>
    private readonly record struct SlotAssignment(Producer Producer, uint Ssrc, uint RtxSsrc, bool Existing);

    /// <summary>Keeps live consumers on their transceivers and gives free recvonly transceivers streams nobody here receives yet.</summary>
    private Dictionary<string, SlotAssignment> AssignSlots(SessionDescription offer)
    {
        var receiving = new HashSet<string>(StringComparer.Ordinal);
        foreach (var media in offer.Media)
        {
            if (!media.IsRejected && media.Mid is not null && media.Direction is SdpDirection.RecvOnly or SdpDirection.SendRecv)
            {
                receiving.Add(media.Mid);
            }
        }

        foreach (var (mid, consumer) in _consumers.ToArray())
        {
            if (!receiving.Contains(mid) || consumer.IsClosed)
            {
                _consumers.Remove(mid);
                _transport!.RemoveConsumer(consumer);
            }
        }

        var assignments = new Dictionary<string, SlotAssignment>(StringComparer.Ordinal);
        var taken = new HashSet<Producer>();
        foreach (var (mid, consumer) in _consumers)
        {
            assignments[mid] = new SlotAssignment(consumer.Producer, consumer.Ssrc, consumer.Rtx?.Ssrc ?? 0, Existing: true);
            taken.Add(consumer.Producer);
        }

        var visible = _router.VisibleProducers;
        foreach (var media in offer.Media)
        {
            if (media.Mid is null || !receiving.Contains(media.Mid) || assignments.ContainsKey(media.Mid)
                || !MediaKindNames.TryParse(media.Kind, out var kind) || (media.Direction == SdpDirection.SendRecv && media.Ssrcs.Count > 0))
            {
                continue;
            }

            foreach (var producer in visible)
            {
                if (producer.Kind == kind && !producer.IsClosed && !taken.Contains(producer) && !IsOwn(producer)
                    && OffersCodec(media, producer.Codec.Name))
                {
                    var spare = _spares?.SlotOf(media.Mid);
                    var ssrc = spare?.Ssrc ?? RtpSsrc.NewRandom();
                    var rtxSsrc = kind != MediaKind.Video ? 0 : spare is { RtxSsrc: not 0 } ? spare.RtxSsrc : NewRtxSsrc(ssrc);
                    assignments[media.Mid] = new SlotAssignment(producer, ssrc, rtxSsrc, Existing: false);
                    taken.Add(producer);
                    break;
                }
            }
        }

        return assignments;
    }

    private List<MediaSlot> ApplyConsumers(Dictionary<string, SlotAssignment> assignments, SessionDescription answer)
    {
        var slots = new List<MediaSlot>(assignments.Count);
        foreach (var media in answer.Media)
        {
            if (media.Mid is null || !assignments.TryGetValue(media.Mid, out var assignment))
            {
                continue;
            }

            var producer = assignment.Producer;
            if (producer.IsClosed || (assignment.Existing && !_consumers.ContainsKey(media.Mid)))
            {
                continue; // Gone while the answer was written; its removal already asked for a new offer.
            }

            if (!assignment.Existing)
            {
                var codec = FindCodec(media, producer.Codec.Name);
                if (codec is null)
                {
                    continue;
                }

                var consumer = new Consumer(producer, _transport!, media.Mid, assignment.Ssrc, (byte)codec.PayloadType,
                    MapExtensions(producer, media), Node.Time, rtx: RtxOf(media, codec, assignment.RtxSsrc));
                _consumers[media.Mid] = consumer;
                _transport!.AddConsumer(consumer);
            }

            slots.Add(new MediaSlot(media.Mid, producer.ToStreamInfo()));
        }

        return slots;
    }

    private void ApplyProducers(SessionDescription offer, SessionDescription answer)
    {
        var sendSlots = new Dictionary<string, SendSlot>(StringComparer.Ordinal);
        for (var i = 0; i < offer.Media.Count && i < answer.Media.Count; i++)
        {
            var offered = offer.Media[i];
            var answered = answer.Media[i];
            if (offered.Mid is null || answered.IsRejected || answered.Direction is not (SdpDirection.RecvOnly or SdpDirection.SendRecv)
                || !MediaKindNames.TryParse(offered.Kind, out var kind) || answered.Codecs.Count == 0)
            {
                continue;
            }

            // No a=ssrc yet (webrtcbin offers before its encoders made a frame; a pre-negotiated send slot may have
            // none): the producer starts unbound and learns its SSRC from the first packet its MID or payload type
            // matches (MediaTransport).
            TryPrimarySsrc(offered, out var ssrc);
            var chosen = answered.Codecs[0];
            var extensions = new Dictionary<string, byte>(StringComparer.Ordinal);
            foreach (var extmap in offered.Extensions)
            {
                if (extmap.Id is > 0 and < 256)
                {
                    extensions[extmap.Uri] = (byte)extmap.Id;
                }
            }

            // RTX (RFC 4588): the answer accepted rtx for the codec; the offer's FID group names the retransmission SSRC
            // (a simulcast sender names none: its layers' RTX streams are bound by the repaired RID, MediaTransport).
            var rtxPayloadType = SdpRtx.TryGetPayloadType(answered, chosen.PayloadType, out var rtx) ? rtx : -1;
            var rtxSsrc = rtxPayloadType >= 0 && ssrc != 0 ? SdpRtx.RetransmissionSsrcOf(offered, ssrc) : 0;
            sendSlots[offered.Mid] = new SendSlot(offered.Mid, kind,
                ssrc, new SourceCodec(chosen.Name, chosen.PayloadType, chosen.ClockRate, chosen.Channels, chosen.Fmtp), extensions,
                Simulcast.SimulcastLayers.AcceptedRids(answered, offered), rtxSsrc, rtxPayloadType);
        }

        _sendSlots = sendSlots;
        foreach (var slot in sendSlots.Values)
        {
            if (MaySend(slot.Kind))
            {
                Publish(slot);
            }
        }

        foreach (var (mid, producer) in _producers.ToArray())
        {
            if (!sendSlots.TryGetValue(mid, out var slot) || !MaySend(slot.Kind))
            {
                RemoveProducer(mid, producer);
            }
        }
    }

    /// <summary>The slot's producer: created and published into the meeting it speaks in, or (existing) its SSRC kept current.</summary>
    private void Publish(SendSlot slot)
    {
        if (_producers.TryGetValue(slot.Mid, out var existing))
        {
            if (slot.Ssrc != 0 && existing.Ssrc != slot.Ssrc && !existing.IsSimulcast)
            {
                _transport!.ChangeProducerSsrc(existing, slot.Ssrc);
            }

            if (slot.RtxSsrc != 0 && existing.RtxSsrc != slot.RtxSsrc && existing.RtxPayloadType >= 0)
            {
                _transport!.BindRetransmissionSsrc(existing, null, slot.RtxSsrc);
            }

            return;
        }

        var streamId = $"{_peer.ConnectionId:N}-{MediaKindNames.Of(slot.Kind)}-{++_tracksPublished}";
        var producer = new Producer(streamId, slot.Kind, slot.Ssrc, slot.Codec, _publishAs, _transport!, Node.Time)
        {
            ExtensionIds = slot.ExtensionIds,
            MidBytes = System.Text.Encoding.ASCII.GetBytes(slot.Mid),
            Layers = Simulcast.SimulcastLayers.FromRids(slot.Rids, slot.Codec, Node.Time),
            RequestsKeyframeOnFirstPacket = true,
            RtxPayloadType = slot.RtxPayloadType,
        };
        _producers[slot.Mid] = producer;
        _transport!.AddProducer(producer);
        if (slot.RtxSsrc != 0 && slot.RtxPayloadType >= 0)
        {
            _transport.BindRetransmissionSsrc(producer, null, slot.RtxSsrc);
        }
        _publishRouter.AddProducer(producer);
    }

    private bool MaySend(MediaKind kind) => _canPublish.HasFlag(MediaKindNames.AsFlag(kind));

    /// <summary>
    /// A pre-negotiating replica attendee's send m-lines are accepted (answered recvonly) while it is in the audience:
    /// nothing it sends is forwarded until a promotion turns them into producers.
    /// </summary>
    private bool AcceptsSendSlots => _peer.PreNegotiated && _router.Primary is not null;

    private void RemoveProducer(string mid, Producer producer)
    {
        _producers.Remove(mid);
        _transport?.RemoveProducer(producer);
        _publishRouter.RemoveProducer(producer);
    }

    private void Unpublish()
    {
        foreach (var (mid, producer) in _producers.ToArray())
        {
            RemoveProducer(mid, producer);
        }
    }

    // ---- promotion (loop thread) ----

    private MediaOutcome Promote(MediaPromotion promotion)
    {
        var primary = _router.Primary;
        if (primary is null || primary.MeetingId != promotion.PrimaryMeetingId)
        {
            return new MediaOutcome(MediaRefusal.NotAllowed, "This connection's meeting is not a replica of that primary.");
        }

        if (primary.IsRemotePrimary && _plane.Relay?.CanPublishInto(primary) != true)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, RefusalMessages.RelayNotUp);
        }

        Unpublish();
        EndRemotePromotion();
        _promotions++;
        _publishRouter = primary;
        _publishAs = new ProducerOwner(promotion.PrimaryMeetingId, promotion.AttendeeId, promotion.ExternalUserId);
        _canPublish = promotion.CanPublish;
        DropOwnStreams();
        PublishSendSlots();
        return MediaOutcome.Ok;
    }

    private MediaOutcome Demote()
    {
        Unpublish();
        EndRemotePromotion();
        _publishRouter = _router;
        _publishAs = new ProducerOwner(_peer.MeetingId, _peer.AttendeeId, _peer.ExternalUserId);
        _canPublish = _peer.CanPublish;
        return MediaOutcome.Ok;
    }

    /// <summary>
    /// Pre-negotiated send slots of the kinds the promotion allows become producers now: the client only attaches its
    /// tracks (replaceTrack), and the first packet binds the SSRC (when the offer named none) and asks for a keyframe.
    /// </summary>
    private void PublishSendSlots()
    {
        if (_transport is not { IsClosed: false })
        {
            return;
        }

        foreach (var slot in _sendSlots.Values)
        {
            if (MaySend(slot.Kind))
            {
                Publish(slot);
            }
        }
    }

    /// <summary>A promotion into a primary on another node ends: its node takes the attendee out of the primary's roster.</summary>
    private void EndRemotePromotion()
    {
        if (_publishRouter.IsRemotePrimary)
        {
            _plane.Relay?.PromotionEnded(_publishRouter.MeetingId, _publishAs);
        }
    }

    /// <summary>After a promotion, the streams the peer itself now publishes must not come back to it.</summary>
    private void DropOwnStreams()
    {
        foreach (var (mid, consumer) in _consumers.ToArray())
        {
            if (IsOwn(consumer.Producer))
            {
                _consumers.Remove(mid);
                _transport?.RemoveConsumer(consumer);
            }
        }
    }

    // ---- router and transport events (loop thread) ----

    public void OnProducerAdded(Producer producer)
    {
        if (IsOwn(producer))
        {
            return;
        }

        if (_spares is null)
        {
            RequestRenegotiation();
        }
        else if (!_negotiating)
        {
            // While an answer is being written, applying it places the stream (Apply).
            PlaceOnSpares(notify: true);
        }
    }

    public void OnProducerRemoved(Producer producer)
    {
        if (IsOwn(producer))
        {
            return;
        }

        if (_spares is null)
        {
            RequestRenegotiation();
        }
        else if (_slotsChanged && !_negotiating)
        {
            // Its consumer already closed with it (the slot is free for the next answer): no renegotiation.
            _slotsChanged = false;
            _listener.OnSlotsChanged(CurrentSlots());
        }
    }

    public void OnTransportClosed(WebRtcTransport transport, string reason)
    {
        if (!_disposed)
        {
            Unpublish();
            _listener.OnTransportClosed(reason);
        }
    }

    public void OnConsumerClosed(WebRtcTransport transport, Consumer consumer)
    {
        if (_consumers.TryGetValue(consumer.Mid, out var current) && current == consumer)
        {
            _consumers.Remove(consumer.Mid);
            _slotsChanged = true;
        }
    }

    // ---- pre-negotiated receive slots (loop thread) ----

    /// <summary>
    /// Pre-negotiating clients: every recvonly m-line the answer gives no stream is a spare slot, answered with an SSRC
    /// (kept while it stays spare) under a node-made msid, so the client's receiver already knows the SSRC a stream
    /// placed on it later arrives with.
    /// </summary>
    private List<(string Mid, MediaKind Kind, uint Ssrc, uint RtxSsrc)> ReserveSpares(
        SessionDescription offer, Dictionary<string, SlotAssignment> assignments, Dictionary<string, SdpOutgoingStream> outgoing)
    {
        var spares = new List<(string, MediaKind, uint, uint)>();
        if (_spares is null)
        {
            return spares;
        }

        foreach (var media in offer.Media)
        {
            if (media.IsRejected || media.Mid is null || media.Direction != SdpDirection.RecvOnly || assignments.ContainsKey(media.Mid)
                || !MediaKindNames.TryParse(media.Kind, out var kind))
            {
                continue;
            }

            var spare = _spares.SlotOf(media.Mid);
            var ssrc = spare?.Ssrc ?? RtpSsrc.NewRandom();
            var rtxSsrc = kind != MediaKind.Video ? 0 : spare is { RtxSsrc: not 0 } ? spare.RtxSsrc : NewRtxSsrc(ssrc);
            outgoing[media.Mid] = new SdpOutgoingStream(ssrc, Cname, "webinar-spare", $"spare-{ssrc:x8}") { RtxSsrc = rtxSsrc };
            spares.Add((media.Mid, kind, ssrc, rtxSsrc));
        }

        return spares;
    }

    /// <summary>The answer is applied: its spare slots (those still without a consumer) are the spares now.</summary>
    private void ApplySpares(List<(string Mid, MediaKind Kind, uint Ssrc, uint RtxSsrc)> reserved, SessionDescription answer)
    {
        var spares = new List<SpareSlot>(reserved.Count);
        foreach (var (mid, kind, ssrc, rtxSsrc) in reserved)
        {
            if (_consumers.ContainsKey(mid))
            {
                continue;
            }

            foreach (var media in answer.Media)
            {
                if (media.Mid == mid && !media.IsRejected && media.Codecs.Count > 0)
                {
                    spares.Add(new SpareSlot(mid, kind, ssrc, media, rtxSsrc));
                    break;
                }
            }
        }

        _spares!.Reset(spares);
        _slotsChanged = false;
    }

    /// <summary>
    /// Places every stream this subscriber should receive but has no consumer for onto a spare slot, without a round
    /// trip; <paramref name="notify"/>: the client hears the new slot map at once (a <c>slots</c> frame). A stream no
    /// spare fits asks for a renegotiation now; spares running low ask for one in the background (top-up).
    /// </summary>
    private void PlaceOnSpares(bool notify)
    {
        if (_spares is null || _disposed || _transport is not { IsClosed: false } transport)
        {
            return;
        }

        var placed = false;
        var unplaced = false;
        foreach (var producer in _router.VisibleProducers)
        {
            if (producer.IsClosed || IsOwn(producer) || IsConsumed(producer))
            {
                continue;
            }

            if (!_spares.TryTake(producer.Kind, producer.Codec.Name, out var slot) || FindCodec(slot.Answered, producer.Codec.Name) is not { } codec)
            {
                unplaced = true;
                continue;
            }

            var consumer = new Consumer(producer, transport, slot.Mid, slot.Ssrc, (byte)codec.PayloadType,
                MapExtensions(producer, slot.Answered), Node.Time, rtx: RtxOf(slot.Answered, codec, slot.RtxSsrc));
            _consumers[slot.Mid] = consumer;
            transport.AddConsumer(consumer);
            placed = true;
        }

        if (placed && notify)
        {
            _slotsChanged = false;
            _listener.OnSlotsChanged(CurrentSlots());
        }

        if (unplaced)
        {
            RequestRenegotiation();
        }
        else if (_spares.NeedsTopUp)
        {
            ScheduleTopUp();
        }
    }

    private bool IsConsumed(Producer producer)
    {
        foreach (var consumer in _consumers.Values)
        {
            if (consumer.Producer == producer)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Which mid carries which stream now.</summary>
    private List<MediaSlot> CurrentSlots()
    {
        var slots = new List<MediaSlot>(_consumers.Count);
        foreach (var (mid, consumer) in _consumers)
        {
            if (!consumer.IsClosed)
            {
                slots.Add(new MediaSlot(mid, consumer.Producer.ToStreamInfo()));
            }
        }

        return slots;
    }

    /// <summary>
    /// Asks for new spare slots <see cref="NegotiationSettings.SpareSlotTopUpDelay"/> after one was used, so the
    /// renegotiation never competes with a new stream's first keyframe.
    /// </summary>
    private void ScheduleTopUp()
    {
        if (_topUp is not null || _disposed)
        {
            return;
        }

        _topUp = Node.Time.CreateTimer(_ => Node.Loop.Post(TopUp), null, _plane.Negotiation.SpareSlotTopUpDelay, Timeout.InfiniteTimeSpan);
    }

    private void TopUp()
    {
        _topUp?.Dispose();
        _topUp = null;
        if (!_disposed && _spares is { NeedsTopUp: true })
        {
            RequestRenegotiation();
        }
    }

    private void RequestRenegotiation()
    {
        if (_disposed)
        {
            return;
        }

        int audio = 0, video = 0;
        foreach (var producer in _router.VisibleProducers)
        {
            if (producer.IsClosed || IsOwn(producer))
            {
                continue;
            }

            if (producer.Kind == MediaKind.Audio)
            {
                audio++;
            }
            else
            {
                video++;
            }
        }

        // A pre-negotiating client keeps spare slots beyond the streams it receives.
        var spare = _spares?.Target ?? 0;
        _listener.OnRenegotiationNeeded(audio + spare, video + spare);
    }

    // ---- helpers ----

    private bool IsOwn(Producer producer) =>
        producer.Owner.AttendeeId == _peer.AttendeeId || producer.Owner.AttendeeId == _publishAs.AttendeeId
        || (_transport is not null && ReferenceEquals(producer.Transport, _transport));

    private static bool OffersCodec(MediaDescription media, string name) => FindCodec(media, name) is not null;

    /// <summary>An RTX SSRC for a video stream: random, never its media SSRC.</summary>
    private static uint NewRtxSsrc(uint mediaSsrc)
    {
        var ssrc = RtpSsrc.NewRandom();
        return ssrc == mediaSsrc ? ssrc ^ 1 : ssrc;
    }

    /// <summary>The consumer's RTX stream when the answered m= line negotiated rtx for its codec; null: resend on the media SSRC.</summary>
    private static ConsumerRtx? RtxOf(MediaDescription answered, SdpCodec codec, uint rtxSsrc) =>
        rtxSsrc != 0 && SdpRtx.TryGetPayloadType(answered, codec.PayloadType, out var payloadType) ? new ConsumerRtx(rtxSsrc, payloadType) : null;

    private static SdpCodec? FindCodec(MediaDescription media, string name)
    {
        foreach (var codec in media.Codecs)
        {
            if (string.Equals(codec.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return codec;
            }
        }

        return null;
    }

    private static byte FindExtensionId(SessionDescription sdp, string uri)
    {
        foreach (var media in sdp.Media)
        {
            foreach (var extmap in media.Extensions)
            {
                if (extmap.Uri == uri && extmap.Id is > 0 and < 256)
                {
                    return (byte)extmap.Id;
                }
            }
        }

        return 0;
    }

    /// <summary>The publisher's primary SSRC: the first one that is not the retransmission half of an FID group.</summary>
    private static bool TryPrimarySsrc(MediaDescription media, out uint ssrc)
    {
        foreach (var group in media.SsrcGroups)
        {
            if (group.Semantics == "FID" && group.Ssrcs.Count > 0)
            {
                ssrc = group.Ssrcs[0];
                return true;
            }
        }

        foreach (var candidate in media.Ssrcs)
        {
            ssrc = candidate.Ssrc;
            return true;
        }

        ssrc = 0;
        return false;
    }

    /// <summary>Publisher extension ids → this subscriber's, for the extensions <see cref="Producer.IsForwardedExtension"/>.</summary>
    private static RtpExtensionIdMap MapExtensions(Producer producer, MediaDescription answered)
    {
        var map = new RtpExtensionIdMap();
        foreach (var (uri, fromId) in producer.ExtensionIds)
        {
            if (!Producer.IsForwardedExtension(uri))
            {
                continue;
            }

            foreach (var extmap in answered.Extensions)
            {
                if (extmap.Uri == uri && extmap.Id is > 0 and < 256)
                {
                    map.Set(fromId, (byte)extmap.Id);
                    break;
                }
            }
        }

        return map;
    }
}
