using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;

using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// One incoming track of a meeting: the packets a publisher's transport receives on one SSRC. It keeps receive
/// statistics (for receiver reports), finds gaps to NACK, and fans every packet out to its consumers. A simulcast
/// producer (<see cref="Layers"/> not empty) receives one SSRC per encoding and keeps those per layer instead; each
/// consumer then picks one layer. Loop thread only.
/// </summary>
internal sealed class Producer
{
    private Consumer[] _consumers = [];

    public Producer(
        string streamId,
        MediaKind kind,
        uint ssrc,
        SourceCodec codec,
        ProducerOwner owner,
        IProducerTransport transport,
        TimeProvider time)
    {
        StreamId = streamId;
        Kind = kind;
        Ssrc = ssrc;
        Codec = codec;
        Owner = owner;
        Transport = transport;
        Statistics = new RtpReceiveStatistics(ssrc, (uint)codec.ClockRate);
        Nacks = new NackGenerator(time);
    }

    /// <summary>Stable id of this stream in signalling (stream-added / answer slots).</summary>
    public string StreamId { get; }

    public MediaKind Kind { get; }

    public uint Ssrc { get; private set; }

    /// <summary>
    /// The rtx payload type (RFC 4588) the publisher retransmits this track with, its apt being <see cref="Codec"/>'s;
    /// -1 when it negotiated none (it then resends on the media SSRC).
    /// </summary>
    public int RtxPayloadType { get; init; } = -1;

    /// <summary>The SSRC of the publisher's retransmission stream for <see cref="Ssrc"/> (0: not known); a simulcast layer has its own.</summary>
    public uint RtxSsrc { get; set; }

    public SourceCodec Codec { get; }

    public ProducerOwner Owner { get; }

    public IProducerTransport Transport { get; }

    /// <summary>
    /// The publisher's a=mid of this track in ASCII (a validated token), to bind its SSRC by the MID header extension
    /// when the m= line named none. Never written into anyone's SDP.
    /// </summary>
    public byte[] MidBytes { get; init; } = [];

    /// <summary>Header extension URI → the id the publisher uses for it.</summary>
    public IReadOnlyDictionary<string, byte> ExtensionIds { get; init; } = new Dictionary<string, byte>();

    /// <summary>
    /// Whether a publisher's header extension travels on to subscribers and relay links: all but the mid and the RIDs,
    /// which name the publisher's own m-line and layer (a RID that changed with each layer switch could make a browser
    /// demultiplex by it; a relay link binds layers to SSRCs up front). The transport-wide sequence number travels and
    /// is renumbered per subscriber as the packet leaves (SubscriberBandwidth).
    /// </summary>
    public static bool IsForwardedExtension(string uri) =>
        uri is not (RtpExtensionUris.Mid or RtpExtensionUris.Rid or RtpExtensionUris.RepairedRid);

    /// <summary>The simulcast encodings, lowest first; empty for a single-stream producer.</summary>
    public IReadOnlyList<ProducerLayer> Layers { get; init; } = [];

    public bool IsSimulcast => Layers.Count > 0;

    /// <summary>What a single-stream producer receives, bits/s over the last second (a simulcast one keeps it per layer).</summary>
    public Bandwidth.BitrateMeter Bitrate { get; } = new();

    /// <summary>What each VP8 temporal layer of the one stream carries (simulcast: per layer, <see cref="ProducerLayer.Temporal"/>).</summary>
    public Bandwidth.TemporalBitrates Temporal { get; } = new();

    /// <summary>The layer received on <paramref name="ssrc"/>, or null.</summary>
    public ProducerLayer? LayerOf(uint ssrc)
    {
        var layers = Layers;
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i].Ssrc == ssrc && ssrc != 0)
            {
                return layers[i];
            }
        }

        return null;
    }

    public MediaStreamInfo ToStreamInfo() => new(StreamId, Owner.AttendeeId, Owner.ExternalUserId, Kind);

    public RtpReceiveStatistics Statistics { get; private set; }

    public NackGenerator Nacks { get; }

    public bool IsClosed { get; private set; }

    /// <summary>Packets a consumer failed to forward (its transport threw); the other consumers still got them.</summary>
    public long ForwardFailures { get; private set; }

    /// <summary>The latest sender report of the publisher: NTP and RTP time of the same instant, for consumers' SRs.</summary>
    public ulong LastSenderReportNtp { get; private set; }

    public uint LastSenderReportRtp { get; private set; }

    public bool HasSenderReport { get; private set; }

    public ReadOnlySpan<Consumer> Consumers => _consumers;

    /// <summary>The publisher restarted the track with another SSRC (same m-line).</summary>
    public void ChangeSsrc(uint ssrc)
    {
        Ssrc = ssrc;
        Statistics = new RtpReceiveStatistics(ssrc, (uint)Codec.ClockRate);
        HasSenderReport = false;
    }

    /// <summary>
    /// A publisher's track (not a relayed copy): its first packet asks the publisher for a keyframe at once, so a new
    /// or promoted speaker's subscribers (here and, relayed, on other nodes) need not wait for their own requests to
    /// travel back; relay consumers forward that keyframe without waiting.
    /// </summary>
    public bool RequestsKeyframeOnFirstPacket { get; init; }

    private bool _received;

    /// <summary>
    /// A stream promoted in from another node whose promotion the primary's node (this one) has not admitted yet: its
    /// transport drops and counts what arrives (<see cref="MediaCounters.RtpNotAdmitted"/>) and it is in no router, so
    /// nobody gets a packet of it. <see cref="Release"/> lets it flow once admitted.
    /// </summary>
    public bool IsHeld { get; private set; }

    /// <summary>Packets dropped while <see cref="IsHeld"/>.</summary>
    public long HeldPackets { get; private set; }

    public void Hold() => IsHeld = true;

    /// <summary>
    /// Admitted: packets flow from the next one. When some were dropped meanwhile (the keyframe the speaker's node asked
    /// for may be among them), the first forwarded packet asks for a keyframe, so subscribers here start at once.
    /// </summary>
    public void Release() => IsHeld = false;

    public void OnHeldPacket() => HeldPackets++;

    public void OnRtp(Span<byte> packet, RtpPacket view, long nowMicros)
    {
        var layerIndex = 0;
        if (IsSimulcast)
        {
            if (LayerOf(view.Ssrc) is not { } layer)
            {
                return;
            }

            layerIndex = layer.Index;
            if (layer.OnPacket(view, nowMicros))
            {
                RequestKeyframe(layerIndex);
            }
        }
        else
        {
            Statistics.OnPacket(view.SequenceNumber, view.Timestamp, nowMicros);
            Bitrate.Add(view.Length, nowMicros);
            if (Nacks.OnPacket(view.SequenceNumber))
            {
                // A gap too large to repair packet by packet: only a new keyframe helps.
                RequestKeyframe();
            }
        }

        if (!_received)
        {
            _received = true;
            if ((RequestsKeyframeOnFirstPacket || HeldPackets > 0) && Kind == MediaKind.Video)
            {
                RequestKeyframe(layerIndex);
            }
        }

        var keyframe = Kind == MediaKind.Video && Codec.IsKeyframe(view.Payload);
        // The VP8 payload descriptor is read once here for every consumer (temporal layers, PictureID rewriting).
        Vp8PayloadDescriptor descriptor = default;
        if (Kind == MediaKind.Video && Codec.IsVp8 && Vp8PayloadDescriptor.TryParse(view.Payload, out descriptor)
            && descriptor.TemporalLayer != Vp8PayloadDescriptor.None)
        {
            (IsSimulcast ? Layers[layerIndex].Temporal : Temporal).Add(descriptor.TemporalLayer, view.Length, nowMicros);
        }

        var consumers = _consumers;
        for (var i = 0; i < consumers.Length; i++)
        {
            try
            {
                consumers[i].Forward(packet, keyframe, layerIndex, descriptor);
            }
            catch (Exception)
            {
                // One subscriber's failure never stops the fan-out: that subscriber alone loses this packet.
                ForwardFailures++;
            }
        }
    }

    /// <summary>
    /// A packet restored from the publisher's RTX stream: handled as <see cref="OnRtp"/> when it fills a hole the node
    /// is still missing; false (and dropped) when the node has it already or gave up on it — a sender probing with old
    /// packets on its RTX stream resends those, and subscribers were never missing them.
    /// </summary>
    public bool OnRecoveredRtp(Span<byte> packet, RtpPacket view, long nowMicros)
    {
        var nacks = IsSimulcast ? LayerOf(view.Ssrc)?.Nacks : Nacks;
        if (nacks is null || !nacks.OnRecovered(view.SequenceNumber))
        {
            return false;
        }

        OnRtp(packet, view, nowMicros);
        return true;
    }

    public void OnSenderReport(uint ssrc, ulong ntp, uint rtp, long nowMicros)
    {
        if (IsSimulcast)
        {
            LayerOf(ssrc)?.OnSenderReport(ntp, rtp, nowMicros);
            return;
        }

        Statistics.OnSenderReport(ntp, nowMicros);
        LastSenderReportNtp = ntp;
        LastSenderReportRtp = rtp;
        HasSenderReport = true;
    }

    /// <summary>Asks the publisher for a keyframe: on the one stream, or on every received layer of a simulcast producer.</summary>
    public void RequestKeyframe()
    {
        if (!IsSimulcast)
        {
            Transport.RequestKeyframe(this, Ssrc);
            return;
        }

        foreach (var layer in Layers)
        {
            if (layer.Ssrc != 0)
            {
                Transport.RequestKeyframe(this, layer.Ssrc);
            }
        }
    }

    /// <summary>Asks for a keyframe on one simulcast layer (a consumer switching to it); the one stream otherwise.</summary>
    public void RequestKeyframe(int layer)
    {
        if (!IsSimulcast)
        {
            Transport.RequestKeyframe(this, Ssrc);
        }
        else if ((uint)layer < (uint)Layers.Count && Layers[layer].Ssrc != 0)
        {
            Transport.RequestKeyframe(this, Layers[layer].Ssrc);
        }
    }

    public void Attach(Consumer consumer)
    {
        var next = new Consumer[_consumers.Length + 1];
        _consumers.CopyTo(next, 0);
        next[^1] = consumer;
        _consumers = next;
    }

    public void Detach(Consumer consumer)
    {
        var index = Array.IndexOf(_consumers, consumer);
        if (index < 0)
        {
            return;
        }

        var next = new Consumer[_consumers.Length - 1];
        Array.Copy(_consumers, 0, next, 0, index);
        Array.Copy(_consumers, index + 1, next, index, _consumers.Length - index - 1);
        _consumers = next;
    }

    /// <summary>Closes the producer and every consumer fed by it.</summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }

        IsClosed = true;
        var consumers = _consumers;
        _consumers = [];
        foreach (var consumer in consumers)
        {
            consumer.OnProducerClosed();
        }
    }
}

/// <summary>Who publishes a producer, as presence shows it.</summary>
internal sealed record ProducerOwner(Guid MeetingId, Guid AttendeeId, string ExternalUserId);

/// <summary>The codec a producer sends, read from the publisher's SDP.</summary>
internal sealed record SourceCodec(string Name, int PayloadType, int ClockRate, int? Channels, string? Fmtp)
{
    private readonly int _keyframeFormat = Name.Equals("VP8", StringComparison.OrdinalIgnoreCase) ? 1
        : Name.Equals("H264", StringComparison.OrdinalIgnoreCase) ? 2 : 0;

    /// <summary>VP8: its payload descriptor carries temporal layers and PictureIDs.</summary>
    public bool IsVp8 => _keyframeFormat == 1;

    /// <summary>Whether this payload starts a keyframe (decided per packet: no allocation, no string work).</summary>
    public bool IsKeyframe(ReadOnlySpan<byte> payload) => _keyframeFormat switch
    {
        1 => KeyframeDetector.IsVp8Keyframe(payload),
        2 => KeyframeDetector.IsH264Keyframe(payload),
        _ => false,
    };
}

/// <summary>What a producer needs from the transport it arrives on.</summary>
internal interface IProducerTransport
{
    /// <summary>Asks the publisher for a keyframe (PLI) on one of the producer's SSRCs, rate-limited per SSRC.</summary>
    void RequestKeyframe(Producer producer, uint ssrc);
}
