using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media.Simulcast;

using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// What every kind of media transport on a node shares: the producers (tracks it receives) and consumers (tracks it
/// sends) keyed by SSRC, SRTP both ways once keyed, RTCP feedback demultiplexed to them, and the periodic receiver
/// reports, sender reports, NACKs and keyframe requests. <see cref="WebRtcTransport"/> adds ICE-lite and DTLS toward a
/// browser; <see cref="RelayLink"/> carries a primary's streams between two nodes. Loop thread only.
/// </summary>
internal abstract class MediaTransport : IProducerTransport, IConsumerTransport
{
    private readonly long _reportInterval;

    private readonly KeyframeRequester _keyframes;
    private readonly Dictionary<uint, Producer> _producersBySsrc = [];
    private readonly Dictionary<uint, Consumer> _consumersBySsrc = [];
    private readonly List<Producer> _unboundProducers = [];
    private readonly List<Producer> _simulcastProducers = [];
    private readonly Dictionary<uint, Producer> _layerProducers = [];
    private readonly Dictionary<uint, Producer> _retransmissionStreams = [];
    private int _producersWithRtx;
    private long _nextReport;
    private SrtpSession? _srtpIn;
    private SrtpSession? _srtpOut;

    protected MediaTransport(MediaWorker node)
    {
        Node = node;
        _keyframes = new KeyframeRequester(node.Time);
        _reportInterval = node.Time.TimestampFrequency;
    }

    protected MediaWorker Node { get; }

    /// <summary>SSRC this transport's own RTCP (receiver reports, feedback) is sent from.</summary>
    protected uint RtcpSsrc { get; } = RtpSsrc.NewRandom();

    /// <summary>Where packets go and which local socket they leave from; null until known (ICE selection for a browser).</summary>
    protected abstract MediaPath? Path { get; }

    public bool IsConnected => _srtpOut is not null && !IsClosed;

    public bool IsClosed { get; private set; }

    public Span<byte> SendBuffer => Node.SendBuffer;

    public RetransmissionOptions Retransmission => Node.Limits.Retransmission;

    public IEnumerable<Consumer> Consumers => _consumersBySsrc.Values;

    public IEnumerable<Producer> Producers => _simulcastProducers.Count == 0 ? _producersBySsrc.Values : [.. _producersBySsrc.Values, .. _simulcastProducers];

    /// <summary>The RFC 8285 id the peer uses for the RID header extension (0: not negotiated), to bind simulcast layers.</summary>
    public byte RidExtensionId { get; set; }

    /// <summary>The RFC 8285 id the peer uses for the MID header extension (0: not negotiated), to bind unsignalled SSRCs.</summary>
    public byte MidExtensionId { get; set; }

    /// <summary>The RFC 8285 id the peer uses for the repaired RID (0: not negotiated), to bind a simulcast layer's RTX stream.</summary>
    public byte RepairedRidExtensionId { get; set; }

    /// <summary>Any producer's SSRC (0 without one): the media SSRC transport-wide feedback names.</summary>
    protected uint FirstProducerSsrc()
    {
        foreach (var ssrc in _producersBySsrc.Keys)
        {
            return ssrc;
        }

        return 0;
    }

    // ---- wiring (loop thread) ----

    /// <summary>Adds a producer; one with SSRC 0 (its m= line named none) is bound to the first packet that matches it.</summary>
    public void AddProducer(Producer producer)
    {
        if (producer.RtxPayloadType >= 0)
        {
            _producersWithRtx++;
        }

        if (producer.IsSimulcast)
        {
            _simulcastProducers.Add(producer);
            foreach (var layer in producer.Layers)
            {
                if (layer.Ssrc != 0)
                {
                    _layerProducers[layer.Ssrc] = producer; // bound already (a relayed stream names its layers' SSRCs)
                }
            }
        }
        else if (producer.Ssrc == 0)
        {
            _unboundProducers.Add(producer);
        }
        else
        {
            _producersBySsrc[producer.Ssrc] = producer;
        }
    }

    public void RemoveProducer(Producer producer)
    {
        ForgetRetransmissionStreams(producer);
        if (producer.RtxPayloadType >= 0 && (_simulcastProducers.Contains(producer) || _unboundProducers.Contains(producer)
                || (_producersBySsrc.TryGetValue(producer.Ssrc, out var known) && known == producer)))
        {
            _producersWithRtx--;
        }

        if (_simulcastProducers.Remove(producer))
        {
            foreach (var layer in producer.Layers)
            {
                if (layer.Ssrc != 0 && _layerProducers.Remove(layer.Ssrc))
                {
                    _keyframes.Remove(layer.Ssrc);
                }
            }

            return;
        }

        if (_unboundProducers.Remove(producer))
        {
            return;
        }

        if (_producersBySsrc.TryGetValue(producer.Ssrc, out var current) && current == producer)
        {
            _producersBySsrc.Remove(producer.Ssrc);
        }

        _keyframes.Remove(producer.Ssrc);
    }

    /// <summary>
    /// <paramref name="ssrc"/> is the publisher's RTX stream (RFC 4588) for <paramref name="producer"/> (for
    /// <paramref name="layer"/> of a simulcast one): what arrives on it is unwrapped and handled as the original.
    /// </summary>
    public void BindRetransmissionSsrc(Producer producer, ProducerLayer? layer, uint ssrc)
    {
        if (ssrc == 0 || producer.RtxPayloadType < 0 || TryGetReceiving(ssrc, out _))
        {
            return;
        }

        var previous = layer?.RtxSsrc ?? producer.RtxSsrc;
        if (previous != 0 && _retransmissionStreams.TryGetValue(previous, out var owner) && owner == producer)
        {
            _retransmissionStreams.Remove(previous);
        }

        if (layer is null)
        {
            producer.RtxSsrc = ssrc;
        }
        else
        {
            layer.RtxSsrc = ssrc;
        }

        _retransmissionStreams[ssrc] = producer;
    }

    private void ForgetRetransmissionStreams(Producer producer)
    {
        if (producer.RtxSsrc != 0 && _retransmissionStreams.TryGetValue(producer.RtxSsrc, out var owner) && owner == producer)
        {
            _retransmissionStreams.Remove(producer.RtxSsrc);
        }

        foreach (var layer in producer.Layers)
        {
            if (layer.RtxSsrc != 0 && _retransmissionStreams.TryGetValue(layer.RtxSsrc, out owner) && owner == producer)
            {
                _retransmissionStreams.Remove(layer.RtxSsrc);
            }
        }
    }

    public bool TryGetProducer(uint ssrc, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Producer producer) =>
        _producersBySsrc.TryGetValue(ssrc, out producer);

    public void ChangeProducerSsrc(Producer producer, uint ssrc)
    {
        if (!_unboundProducers.Remove(producer))
        {
            _producersBySsrc.Remove(producer.Ssrc);
        }

        producer.ChangeSsrc(ssrc);
        _producersBySsrc[ssrc] = producer;
    }

    public void AddConsumer(Consumer consumer)
    {
        _consumersBySsrc[consumer.Ssrc] = consumer;
        consumer.Producer.Attach(consumer);
        if (IsConnected)
        {
            consumer.OnTransportConnected();
        }
    }

    public void RemoveConsumer(Consumer consumer)
    {
        _consumersBySsrc.Remove(consumer.Ssrc);
        consumer.Dispose();
    }

    /// <summary>Installs the SRTP contexts: from now on the transport carries media.</summary>
    protected void StartSrtp(SrtpSession inbound, SrtpSession outbound)
    {
        // The peer picks the SSRCs it sends RTCP from: bound the state it can make us keep.
        inbound.MaxStreams = Node.Limits.MaxSrtpStreams;
        _srtpIn = inbound;
        _srtpOut = outbound;
        foreach (var consumer in _consumersBySsrc.Values)
        {
            consumer.OnTransportConnected();
        }

        foreach (var producer in Producers)
        {
            if (producer.Kind == MediaKind.Video && producer.Consumers.Length > 0)
            {
                producer.RequestKeyframe();
            }
        }
    }

    // ---- receiving (loop thread) ----

    public virtual void OnRtp(Span<byte> datagram)
    {
        var srtp = _srtpIn;
        if (srtp is null)
        {
            Node.Counters.NotKeyed++;
            return;
        }

        // Only SSRCs the peer negotiated get SRTP state or decryption work (the SSRC is in the clear); an unknown one
        // only while a producer negotiated without a=ssrc waits to learn its SSRC from an authenticated packet.
        // SSRC 0: a sender that negotiated rtx (libwebrtc) probes bandwidth with padding on SSRC 0 before its video starts.
        Producer? producer = null;
        if (datagram.Length < RtpPacket.FixedHeaderLength
            || (!TryGetReceiving(BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]), out producer)
                && !_retransmissionStreams.ContainsKey(BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]))
                && !(_producersWithRtx > 0 && BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]) == 0)
                && _unboundProducers.Count == 0 && !HasUnboundLayers()))
        {
            Node.Counters.UnknownSsrc++;
            return;
        }

        if (srtp.UnprotectRtp(datagram, datagram.Length, out var length) != SrtpResult.Ok)
        {
            Node.Counters.SrtpRejected++;
            return;
        }

        var packet = datagram[..length];
        if (!RtpPacket.TryParse(packet, out var view))
        {
            Node.Counters.Malformed++;
            return;
        }

        if (producer is null && view.Ssrc == 0 && view.Payload.Length == 0 && view.HasPadding)
        {
            // A bandwidth probe: it counts for the sender's transport-wide feedback and goes no further.
            Node.Counters.RtpReceived++;
            OnRtpReceived(view, Node.NowMicros());
            return;
        }

        if (producer is null && (_retransmissionStreams.TryGetValue(view.Ssrc, out var repaired) || TryBindRetransmission(view, out repaired)))
        {
            OnRetransmission(packet, view, repaired);
            return;
        }

        if (producer is null && !TryBindLayer(view, out producer) && !TryBindUnsignalled(view, out producer))
        {
            Node.Counters.UnknownSsrc++;
            return;
        }

        var nowMicros = Node.NowMicros();
        OnRtpReceived(view, nowMicros);
        if (producer.IsHeld)
        {
            // A promotion from another node the primary's node has not admitted: nobody may get a packet of it.
            producer.OnHeldPacket();
            Node.Counters.RtpNotAdmitted++;
            return;
        }

        Node.Counters.RtpReceived++;
        producer.OnRtp(packet, view, nowMicros);
    }

    private bool TryGetReceiving(uint ssrc, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Producer? producer)
    {
        if (_producersBySsrc.TryGetValue(ssrc, out producer) || _layerProducers.TryGetValue(ssrc, out producer))
        {
            return true;
        }

        producer = null;
        return false;
    }

    /// <summary>A simulcast layer, or the RTX stream of one, whose SSRC the first packet naming its RID will bind.</summary>
    private bool HasUnboundLayers()
    {
        foreach (var producer in _simulcastProducers)
        {
            foreach (var layer in producer.Layers)
            {
                if (layer.Ssrc == 0 || (layer.RtxSsrc == 0 && producer.RtxPayloadType >= 0 && RepairedRidExtensionId != 0))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// A packet on a publisher's RTX stream (RFC 4588 §4): restored in place as the packet it repeats (OSN as sequence
    /// number, the apt payload type, the media SSRC) and handled as that packet arriving late — it fills the NACKed hole,
    /// and goes to the consumers, their NACK caches and relay links; never forwarded as it came. One the node was not
    /// missing (a sender probing with old packets on its RTX stream) goes no further. Padding-only packets
    /// (the publisher probing bandwidth on its RTX stream) count for transport-wide feedback and go no further. One
    /// whose payload cannot hold the OSN, whose payload type is not the rtx one negotiated for the producer's codec, or
    /// whose original stream is not known yet is dropped and counted.
    /// </summary>
    private void OnRetransmission(Span<byte> packet, RtpPacket view, Producer producer)
    {
        // Whatever it carries, the sender sent it: it counts for the sender's transport-wide feedback (its bandwidth
        // estimate), also padding probes on a layer's RTX stream while the layer itself is off.
        var counters = Node.Counters;
        var nowMicros = Node.NowMicros();
        OnRtpReceived(view, nowMicros);
        if (view.PayloadType != producer.RtxPayloadType)
        {
            counters.Malformed++;
            counters.RtxMalformed++;
            return;
        }

        if (view.Payload.Length == 0 && view.HasPadding)
        {
            counters.RtpReceived++;
            return;
        }

        var mediaSsrc = producer.IsSimulcast ? LayerRepairedBy(producer, view.Ssrc) : producer.Ssrc;
        if (mediaSsrc == 0 || RtxPacket.TryUnwrap(packet, (byte)producer.Codec.PayloadType, mediaSsrc, out var offset, out var length) != RtxUnwrapResult.Repaired)
        {
            counters.Malformed++;
            counters.RtxMalformed++;
            return;
        }

        var original = packet.Slice(offset, length);
        if (!RtpPacket.TryParse(original, out var restored))
        {
            counters.Malformed++;
            counters.RtxMalformed++;
            return;
        }

        counters.RtpReceived++;
        if (producer.OnRecoveredRtp(original, restored, nowMicros))
        {
            counters.RtxRepaired++;
        }
        else
        {
            counters.RtxDuplicates++;
        }
    }

    private static uint LayerRepairedBy(Producer producer, uint rtxSsrc)
    {
        foreach (var layer in producer.Layers)
        {
            if (layer.RtxSsrc == rtxSsrc)
            {
                return layer.Ssrc;
            }
        }

        return 0;
    }

    /// <summary>
    /// RTX on an SSRC no FID group named: a simulcast layer's RTX stream, by the repaired RID header extension (RFC 8852
    /// §3.2) and the MID (or the one simulcast producer); else the one producer (by MID, or the only candidate) whose
    /// negotiated rtx payload type the packet has and whose RTX SSRC is not known.
    /// </summary>
    private bool TryBindRetransmission(RtpPacket packet, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Producer? producer)
    {
        producer = null;
        if (packet.Ssrc == 0 || _consumersBySsrc.ContainsKey(packet.Ssrc))
        {
            return false;
        }

        var hasMid = MidExtensionId != 0 && packet.TryGetExtension(MidExtensionId, out _);
        if (_simulcastProducers.Count > 0 && RepairedRidExtensionId != 0 && packet.TryGetExtension(RepairedRidExtensionId, out var rrid))
        {
            foreach (var candidate in _simulcastProducers)
            {
                if (candidate.RtxPayloadType != packet.PayloadType || (hasMid ? !MidMatches(packet, candidate) : _simulcastProducers.Count != 1))
                {
                    continue;
                }

                foreach (var layer in candidate.Layers)
                {
                    if (rrid.SequenceEqual(layer.RidBytes))
                    {
                        BindRetransmissionSsrc(candidate, layer, packet.Ssrc);
                        producer = candidate;
                        return true;
                    }
                }
            }

            return false;
        }

        Producer? match = null;
        foreach (var candidate in _producersBySsrc.Values)
        {
            if (!IsRetransmissionCandidate(candidate, packet, hasMid, ref match))
            {
                return false;
            }
        }

        foreach (var candidate in _unboundProducers)
        {
            if (!IsRetransmissionCandidate(candidate, packet, hasMid, ref match))
            {
                return false;
            }
        }

        if (match is null)
        {
            return false;
        }

        BindRetransmissionSsrc(match, null, packet.Ssrc);
        producer = match;
        return true;
    }

    /// <summary>Notes <paramref name="candidate"/> as the match when it fits; false when a second one fits (ambiguous).</summary>
    private bool IsRetransmissionCandidate(Producer candidate, RtpPacket packet, bool hasMid, ref Producer? match)
    {
        if (candidate.RtxPayloadType != packet.PayloadType || candidate.RtxSsrc != 0 || (hasMid && !MidMatches(packet, candidate)))
        {
            return true;
        }

        if (match is not null)
        {
            return false;
        }

        match = candidate;
        return true;
    }

    private bool MidMatches(RtpPacket packet, Producer candidate) =>
        packet.TryGetExtension(MidExtensionId, out var mid) && mid.SequenceEqual(candidate.MidBytes);

    /// <summary>
    /// RTP of a simulcast encoding on an SSRC not seen before (RFC 8852/8853): the RID header extension names the
    /// layer, the MID extension the producer (or the transport has just one simulcast producer). The SSRC is then that
    /// layer's; a layer that reappears on another SSRC (the publisher restarted its encoder) moves to it.
    /// </summary>
    private bool TryBindLayer(RtpPacket packet, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Producer? producer)
    {
        producer = null;
        if (_simulcastProducers.Count == 0 || RidExtensionId == 0 || packet.Ssrc == 0 || _consumersBySsrc.ContainsKey(packet.Ssrc)
            || !packet.TryGetExtension(RidExtensionId, out var rid))
        {
            return false;
        }

        Producer? match = null;
        if (MidExtensionId != 0 && packet.TryGetExtension(MidExtensionId, out var mid))
        {
            foreach (var candidate in _simulcastProducers)
            {
                if (mid.SequenceEqual(candidate.MidBytes))
                {
                    match = candidate;
                    break;
                }
            }
        }
        else if (_simulcastProducers.Count == 1)
        {
            match = _simulcastProducers[0];
        }

        if (match is null)
        {
            return false;
        }

        foreach (var layer in match.Layers)
        {
            if (!rid.SequenceEqual(layer.RidBytes))
            {
                continue;
            }

            if (layer.Ssrc != 0)
            {
                _layerProducers.Remove(layer.Ssrc);
                _keyframes.Remove(layer.Ssrc);
            }

            layer.Bind(packet.Ssrc);
            _layerProducers[packet.Ssrc] = match;
            producer = match;
            return true;
        }

        return false;
    }

    /// <summary>
    /// RTP on an SSRC no m= line named (RFC 8843 §9.2): the MID header extension says which producer it is; without
    /// one, the payload type does when exactly one unbound producer uses it. The SSRC is then that producer's.
    /// </summary>
    private bool TryBindUnsignalled(RtpPacket packet, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Producer? producer)
    {
        producer = null;
        if (_unboundProducers.Count == 0 || packet.Ssrc == 0 || _consumersBySsrc.ContainsKey(packet.Ssrc))
        {
            return false;
        }

        Producer? match = null;
        if (MidExtensionId != 0 && packet.TryGetExtension(MidExtensionId, out var mid))
        {
            foreach (var candidate in _unboundProducers)
            {
                if (mid.SequenceEqual(candidate.MidBytes))
                {
                    match = candidate;
                    break;
                }
            }
        }
        else
        {
            foreach (var candidate in _unboundProducers)
            {
                if (candidate.Codec.PayloadType == packet.PayloadType)
                {
                    if (match is not null)
                    {
                        return false; // Two unbound tracks with one payload type and no MID: nothing says which.
                    }

                    match = candidate;
                }
            }
        }

        if (match is null)
        {
            return false;
        }

        ChangeProducerSsrc(match, packet.Ssrc);
        producer = match;
        return true;
    }

    /// <summary>Every authenticated RTP packet, before it is forwarded (transport-wide feedback, liveness).</summary>
    protected virtual void OnRtpReceived(RtpPacket packet, long nowMicros)
    {
    }

    public void OnRtcp(Span<byte> datagram)
    {
        var srtp = _srtpIn;
        if (srtp is null)
        {
            Node.Counters.NotKeyed++;
            return;
        }

        var evicted = srtp.StreamsEvicted;
        if (srtp.UnprotectRtcp(datagram, datagram.Length, out var length) != SrtpResult.Ok)
        {
            Node.Counters.SrtpRejected++;
            return;
        }

        if (srtp.StreamsEvicted != evicted)
        {
            Node.Counters.SrtpStreamsEvicted++;
        }

        Node.Counters.RtcpReceived++;
        OnRtcpReceived();
        var listener = new RtcpListener(this);
        if (!RtcpDispatcher.Dispatch(datagram[..length], ref listener))
        {
            Node.Counters.RtcpMalformed++;
        }
    }

    /// <summary>Transport-wide congestion control feedback from the peer about what this transport sent.</summary>
    protected virtual void OnTransportFeedback(RtcpTransportFeedback feedback)
    {
    }

    /// <summary>A plain RTP packet about to be protected and sent (the transport-wide sequence number goes in here).</summary>
    protected virtual void OnSendingRtp(Span<byte> packet)
    {
    }

    /// <summary>Every authenticated RTCP packet (liveness).</summary>
    protected virtual void OnRtcpReceived()
    {
    }

    /// <summary>What this transport does with each RTCP message it receives (<see cref="RtcpDispatcher"/> reads them).</summary>
    private readonly struct RtcpListener(MediaTransport transport) : IRtcpListener
    {
        public void OnSenderReport(in RtcpSenderReport report)
        {
            if (transport.TryGetReceiving(report.Ssrc, out var producer))
            {
                producer.OnSenderReport(report.Ssrc, report.NtpTimestamp, report.RtpTimestamp, transport.Node.NowMicros());
            }
        }

        public void OnGenericNack(in RtcpGenericNack nack)
        {
            if (transport._consumersBySsrc.TryGetValue(nack.MediaSsrc, out var nacked))
            {
                Span<ushort> lost = stackalloc ushort[256];
                var count = nack.GetLostSequenceNumbers(lost);
                var result = nacked.Retransmit(lost[..count]);
                var counters = transport.Node.Counters;
                counters.NacksAnswered += result.Sent;
                counters.RetransmissionsRepeated += result.Repeated;
                counters.RetransmissionsOverBudget += result.OverBudget;
            }
        }

        public void OnTransportFeedback(in RtcpTransportFeedback feedback) => transport.OnTransportFeedback(feedback);

        public void OnKeyframeRequest(uint mediaSsrc)
        {
            if (transport._consumersBySsrc.TryGetValue(mediaSsrc, out var consumer))
            {
                consumer.OnKeyframeRequest();
            }
        }
    }

    // ---- sending (loop thread) ----

    public void SendRtp(Span<byte> buffer, int length)
    {
        var srtp = _srtpOut;
        var path = Path;
        if (srtp is null || path is null || IsClosed)
        {
            return;
        }

        OnSendingRtp(buffer[..length]);
        if (srtp.ProtectRtp(buffer, length, out var protectedLength) == SrtpResult.Ok)
        {
            Node.Counters.RtpForwarded++;
            path.SendFromLoop(buffer[..protectedLength]);
        }
    }

    protected void SendRtcp(Span<byte> buffer, int length)
    {
        var srtp = _srtpOut;
        var path = Path;
        if (srtp is null || path is null || IsClosed)
        {
            return;
        }

        if (srtp.ProtectRtcp(buffer, length, out var protectedLength) == SrtpResult.Ok)
        {
            path.Send(buffer[..protectedLength]);
        }
    }

    public void RequestKeyframe(Producer producer, uint ssrc)
    {
        if (!IsConnected || ssrc == 0 || !_keyframes.Request(ssrc))
        {
            return;
        }

        SendKeyframeRequest(ssrc);
    }

    private void SendKeyframeRequest(uint ssrc)
    {
        var buffer = Node.RtcpBuffer;
        if (_keyframes.TryWriteRequest(buffer, RtcpSsrc, ssrc, KeyframeRequestKind.PictureLossIndication, out var length))
        {
            Node.Counters.KeyframeRequestsSent++;
            SendRtcp(buffer, length);
        }
    }

    void IConsumerTransport.OnConsumerClosed(Consumer consumer)
    {
        _consumersBySsrc.Remove(consumer.Ssrc);
        consumer.Dispose();
        OnConsumerClosed(consumer);
    }

    /// <summary>A consumer lost its producer and was removed.</summary>
    protected abstract void OnConsumerClosed(Consumer consumer);

    // ---- timers (loop thread) ----

    /// <summary>Periodic work: NACKs and keyframe requests due, and about once a second receiver and sender reports.</summary>
    public virtual void OnTick(long now)
    {
        if (!IsConnected)
        {
            return;
        }

        var buffer = Node.RtcpBuffer;
        foreach (var producer in _producersBySsrc.Values)
        {
            if (producer.Nacks.TryBuildNack(buffer, RtcpSsrc, producer.Ssrc, out var nackLength))
            {
                SendRtcp(buffer, nackLength);
                Node.Counters.NacksSent++;
            }
        }

        foreach (var producer in _simulcastProducers)
        {
            foreach (var layer in producer.Layers)
            {
                if (layer.Ssrc != 0 && layer.Nacks.TryBuildNack(buffer, RtcpSsrc, layer.Ssrc, out var nackLength))
                {
                    SendRtcp(buffer, nackLength);
                    Node.Counters.NacksSent++;
                }
            }
        }

        Span<uint> due = stackalloc uint[16];
        var dueCount = _keyframes.CollectDue(due);
        for (var i = 0; i < dueCount; i++)
        {
            SendKeyframeRequest(due[i]);
        }

        if (now >= _nextReport)
        {
            _nextReport = now + _reportInterval + Random.Shared.NextInt64(0, _reportInterval / 5);
            SendReports(buffer);
        }
    }

    private void SendReports(Span<byte> buffer)
    {
        var nowMicros = Node.NowMicros();
        if (_producersBySsrc.Count + _layerProducers.Count > 0)
        {
            Span<ReportBlock> blocks = stackalloc ReportBlock[Math.Min(_producersBySsrc.Count + _layerProducers.Count, ReportBlock.MaxPerReport)];
            var i = 0;
            foreach (var producer in _producersBySsrc.Values)
            {
                if (i == blocks.Length)
                {
                    break;
                }

                if (producer.Statistics.PacketsReceived > 0)
                {
                    blocks[i++] = producer.Statistics.CreateReportBlock(nowMicros);
                }
            }

            foreach (var producer in _simulcastProducers)
            {
                foreach (var layer in producer.Layers)
                {
                    if (i < blocks.Length && layer.Ssrc != 0 && layer.Statistics.PacketsReceived > 0)
                    {
                        blocks[i++] = layer.Statistics.CreateReportBlock(nowMicros);
                    }
                }
            }

            if (RtcpReceiverReport.TryWrite(buffer, RtcpSsrc, blocks[..i], out var rrLength))
            {
                SendRtcp(buffer, rrLength);
            }
        }

        foreach (var consumer in _consumersBySsrc.Values)
        {
            if (!consumer.HasSent || !consumer.TryGetSenderReport(out var ntp, out var rtp))
            {
                continue;
            }

            // The producer's last SR says which RTP time matched which wall-clock time; the consumer says the same
            // in its own timestamp space, which keeps the subscriber's audio and video in sync.
            if (RtcpSenderReport.TryWrite(buffer, consumer.Ssrc, ntp, rtp, consumer.PacketsSent, consumer.OctetsSent,
                    ReadOnlySpan<ReportBlock>.Empty, out var srLength))
            {
                SendRtcp(buffer, srLength);
            }
        }
    }

    /// <summary>
    /// Closes the transport: its consumers detach and it forgets its producers; its owner, told through
    /// <see cref="OnClosed"/>, ends them (their consumers elsewhere close with them). Idempotent; <see cref="OnClosed"/> runs once.
    /// </summary>
    public void Close(string reason)
    {
        if (IsClosed)
        {
            return;
        }

        IsClosed = true;
        Node.Unregister(this);
        foreach (var consumer in _consumersBySsrc.Values)
        {
            consumer.Dispose();
        }

        _consumersBySsrc.Clear();
        _producersBySsrc.Clear();
        _simulcastProducers.Clear();
        _layerProducers.Clear();
        _retransmissionStreams.Clear();
        _producersWithRtx = 0;
        _srtpIn?.Dispose();
        _srtpOut?.Dispose();
        _srtpIn = null;
        _srtpOut = null;
        OnClosed(reason);
    }

    /// <summary>After <see cref="Close"/>: the subclass releases its own parts and tells its owner.</summary>
    protected abstract void OnClosed(string reason);
}
