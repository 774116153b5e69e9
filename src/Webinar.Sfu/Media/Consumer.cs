using Webinar.Media.Rtp;
using Webinar.Sfu.Media.Bandwidth;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// One outgoing track to one subscriber: a producer's packets rewritten onto the consumer's own SSRC, sequence
/// numbers and timestamps (continuous even when the source changes), with the subscriber's payload type and header
/// extension ids, cached for NACKs, then protected and sent by the subscriber's transport. Video toward a browser waits
/// for a keyframe before the first packet, so a late joiner's decoder starts clean; a relay link forwards everything
/// and leaves that to the consumers on the far node. Of a simulcast producer it sends one layer at a time
/// (<see cref="Layers"/>, switched at keyframes; VP8 PictureID and TL0PICIDX renumbered with it). A subscriber that
/// negotiated rtx (<see cref="Rtx"/>) gets its retransmissions on the consumer's RTX stream (RFC 4588), others on the
/// media SSRC. Loop thread only.
/// </summary>
internal sealed class Consumer : IDisposable
{
    private readonly RtpStreamRewriter _rewriter;
    private readonly RtpPacketCache _cache;
    private readonly RetransmissionLimiter _resends;
    private readonly RtpExtensionIdMap _extensions;
    private readonly bool _gateOnKeyframe;
    private readonly LayerSelector? _layers;
    private readonly Vp8PictureRewriter? _vp8;
    private bool _waitingForKeyframe;
    private uint _timestampOffset;
    private ushort _rtxSequenceNumber;
    private bool _lastSentMarker;
    private readonly TemporalLayers _temporal = new();

    public Consumer(
        Producer producer,
        IConsumerTransport transport,
        string mid,
        uint ssrc,
        byte payloadType,
        RtpExtensionIdMap extensions,
        TimeProvider time,
        bool waitForKeyframe = true,
        int? pinnedLayer = null,
        ConsumerRtx? rtx = null)
    {
        Producer = producer;
        Transport = transport;
        Mid = mid;
        Ssrc = ssrc;
        PayloadType = payloadType;
        _extensions = extensions;
        _rewriter = new RtpStreamRewriter(ssrc, (uint)producer.Codec.ClockRate, time,
            (ushort)Random.Shared.Next(0, 0x8000), (uint)Random.Shared.Next());
        _cache = new RtpPacketCache(producer.Kind == MediaKind.Video ? transport.Retransmission.VideoCacheSize : transport.Retransmission.AudioCacheSize);
        _resends = new RetransmissionLimiter(_cache.Capacity, time, transport.Retransmission);
        Rtx = rtx;
        _rtxSequenceNumber = (ushort)Random.Shared.Next(0, 0x8000);
        _gateOnKeyframe = waitForKeyframe && producer.Kind == MediaKind.Video;
        _waitingForKeyframe = _gateOnKeyframe;
        if (producer.IsSimulcast)
        {
            _layers = new LayerSelector();
            _layers.Follow(producer.Layers.Count - 1);
            if (pinnedLayer is { } pinned)
            {
                _layers.Pin(pinned);
            }
            else if (producer.Codec.IsVp8)
            {
                _vp8 = new Vp8PictureRewriter();
            }
        }
        else if (producer.Codec.IsVp8 && producer.Kind == MediaKind.Video)
        {
            _vp8 = new Vp8PictureRewriter(); // identity until a temporal layer is dropped
        }
    }

    /// <summary>Which simulcast layer this consumer sends and should send; null for a single-stream producer.</summary>
    public LayerSelector? Layers => _layers;

    /// <summary>The highest spatial layer the subscriber wants (set-preferred-layers); the allocator never goes above it.</summary>
    public int PreferredSpatialLayer { get; set; } = int.MaxValue;

    /// <summary>The highest VP8 temporal layer the subscriber asked for (set-preferred-layers).</summary>
    public int PreferredTemporalLayer { get; set; } = int.MaxValue;

    /// <summary>The highest VP8 temporal layer the allocator lets through (a lower frame rate before no video at all).</summary>
    public int AllocatedTemporalLayer { get; set; } = int.MaxValue;

    /// <summary>The highest VP8 temporal layer forwarded now: it follows the target at frame starts (see <see cref="TemporalLayers"/>).</summary>
    public int CurrentTemporalLayer => _temporal.Current;

    /// <summary>VP8 packets not forwarded because their temporal layer is above <see cref="CurrentTemporalLayer"/>.</summary>
    public long TemporalDropped { get; private set; }

    /// <summary>Served first by the allocator (a screen share, the active speaker).</summary>
    public int Priority { get; set; }

    /// <summary>Video stopped for this subscriber because its downlink cannot carry the lowest layer (audio continues).</summary>
    public bool IsVideoPaused { get; private set; }

    /// <summary>Pauses or resumes the video; resuming starts at a keyframe (the target layer's for simulcast).</summary>
    public void SetVideoPaused(bool paused, int resumeLayer = 0)
    {
        if (paused == IsVideoPaused || Producer.Kind != MediaKind.Video)
        {
            return;
        }

        IsVideoPaused = paused;
        if (_layers is not null)
        {
            _layers.TargetLayer = paused ? LayerSelector.NoLayer : resumeLayer;
            if (!paused)
            {
                Producer.RequestKeyframe(resumeLayer);
            }
        }
        else if (!paused)
        {
            _waitingForKeyframe = true;
            Producer.RequestKeyframe();
        }
    }

    /// <summary>
    /// Sends one padding-only packet (RFC 3550 §5.1, P bit, no payload) of <paramref name="paddingBytes"/>, with room
    /// for the transport-wide sequence number the transport stamps: how the node probes a subscriber's downlink. It goes
    /// on the RTX stream when the subscriber negotiated one (its own sequence space: the media stream is untouched);
    /// otherwise on the media SSRC, and then only between frames (see <see cref="Padding"/>). False when
    /// no padding can go now: before any media, or in the middle of a frame without RTX.
    /// </summary>
    public bool TrySendPadding(int paddingBytes, byte transportSequenceExtensionId)
    {
        if (IsClosed || !Transport.IsConnected || transportSequenceExtensionId is 0 or > 14 || !HasSent)
        {
            return false;
        }

        paddingBytes = Math.Clamp(paddingBytes, 1, 255);
        var buffer = Transport.SendBuffer;
        var length = RtpPacket.FixedHeaderLength + 8 + paddingBytes;
        if (length + Webinar.Media.Srtp.SrtpSession.MaxOverhead > buffer.Length)
        {
            return false;
        }

        ushort sequenceNumber;
        uint timestamp;
        uint ssrc;
        byte payloadType;
        if (Rtx is { } rtx)
        {
            sequenceNumber = _rtxSequenceNumber++;
            timestamp = _rewriter.LastTimestamp;
            ssrc = rtx.Ssrc;
            payloadType = rtx.PayloadType;
        }
        else if (!_lastSentMarker || !_rewriter.TryReserveSequenceNumber(out sequenceNumber, out timestamp))
        {
            return false;
        }
        else
        {
            ssrc = Ssrc;
            payloadType = PayloadType;
        }

        Padding.Write(buffer, payloadType, sequenceNumber, timestamp, ssrc, paddingBytes, transportSequenceExtensionId);
        PaddingSent++;
        Transport.SendRtp(buffer, length);
        return true;
    }

    /// <summary>Padding packets sent to probe the subscriber's downlink.</summary>
    public long PaddingSent { get; private set; }

    public Producer Producer { get; }

    public IConsumerTransport Transport { get; }

    /// <summary>The subscriber's m-line (transceiver) this consumer sends on.</summary>
    public string Mid { get; }

    public uint Ssrc { get; }

    public byte PayloadType { get; }

    /// <summary>The retransmission stream the subscriber negotiated (SSRC and rtx payload type); null: resend on <see cref="Ssrc"/>.</summary>
    public ConsumerRtx? Rtx { get; }

    /// <summary>Retransmissions sent as RTX packets.</summary>
    public long RtxPacketsSent { get; private set; }

    public bool IsClosed { get; private set; }

    public uint PacketsSent { get; private set; }

    public uint OctetsSent { get; private set; }

    public bool HasSent => PacketsSent > 0;

    /// <summary>Output RTP time of the producer's last sender report, so the subscriber keeps audio and video in sync.</summary>
    public uint MapTimestamp(uint producerTimestamp) => unchecked(producerTimestamp + _timestampOffset);

    /// <summary>
    /// The publisher's latest sender report of the stream this consumer now sends, in the consumer's timestamp space;
    /// false before one arrived (or while no simulcast layer is sent).
    /// </summary>
    public bool TryGetSenderReport(out ulong ntp, out uint rtp)
    {
        ntp = 0;
        rtp = 0;
        if (_layers is null)
        {
            if (!Producer.HasSenderReport)
            {
                return false;
            }

            ntp = Producer.LastSenderReportNtp;
            rtp = MapTimestamp(Producer.LastSenderReportRtp);
            return true;
        }

        var current = _layers.CurrentLayer;
        if ((uint)current >= (uint)Producer.Layers.Count || Producer.Layers[current] is not { HasSenderReport: true } layer)
        {
            return false;
        }

        ntp = layer.LastSenderReportNtp;
        rtp = MapTimestamp(layer.LastSenderReportRtp);
        return true;
    }

    /// <param name="packet">The producer's packet (plain RTP).</param>
    /// <param name="keyframe">It starts a keyframe.</param>
    /// <param name="layer">The simulcast layer it belongs to (0 for a single-stream producer).</param>
    /// <param name="vp8">Its VP8 payload descriptor as the producer parsed it (offsets into the payload, the same in this copy); default when none.</param>
    public void Forward(ReadOnlySpan<byte> packet, bool keyframe, int layer = 0, in Vp8PayloadDescriptor vp8 = default)
    {
        if (IsClosed || !Transport.IsConnected)
        {
            return;
        }

        if (_layers is not null)
        {
            if (_layers.FollowsHighest)
            {
                FollowHighest(layer);
            }

            switch (_layers.Decide(layer, keyframe))
            {
                case LayerDecision.Drop:
                    if (_layers.WantsKeyframe && layer == _layers.TargetLayer)
                    {
                        Producer.RequestKeyframe(layer);
                    }

                    return;
                case LayerDecision.Switch:
                    _rewriter.Resync();
                    _vp8?.Resync();
                    break;
            }
        }
        else if (IsVideoPaused)
        {
            return;
        }
        else if (_waitingForKeyframe)
        {
            if (!keyframe)
            {
                Producer.RequestKeyframe();
                return;
            }

            _waitingForKeyframe = false;
        }

        var buffer = Transport.SendBuffer;
        if (packet.Length + Webinar.Media.Srtp.SrtpSession.MaxOverhead > buffer.Length)
        {
            return;
        }

        packet.CopyTo(buffer);
        var length = packet.Length;
        if (!RtpPacket.TryParse(buffer[..length], out var view))
        {
            return;
        }

        var hasDescriptor = _vp8 is not null && vp8.Length > 0;
        if (hasDescriptor && !_temporal.Forwards(vp8, keyframe, Math.Min(PreferredTemporalLayer, AllocatedTemporalLayer)))
        {
            _rewriter.Drop(view.Ssrc, view.SequenceNumber);
            if (vp8.IsStartOfFrame)
            {
                _vp8!.DropPicture(vp8);
            }

            TemporalDropped++;
            if (_temporal.WaitsForSync)
            {
                OnKeyframeRequest();
            }

            return;
        }

        var sourceTimestamp = view.Timestamp;
        if (!_rewriter.TryRewrite(view))
        {
            return;
        }

        _timestampOffset = unchecked(view.Timestamp - sourceTimestamp);
        if (hasDescriptor)
        {
            _vp8!.Rewrite(view.Payload, vp8);
        }

        if (view.SequenceNumber == _rewriter.LastSequenceNumber)
        {
            _lastSentMarker = view.Marker;
        }

        view.PayloadType = PayloadType;
        _extensions.Apply(view);
        _cache.Store(view.SequenceNumber, buffer[..length]);
        PacketsSent++;
        OctetsSent += (uint)view.Payload.Length;
        Transport.SendRtp(buffer, length);
    }

    /// <summary>Without an allocator: go up to any higher layer that arrives, down to one that arrives when the current went silent.</summary>
    private void FollowHighest(int layer)
    {
        var target = _layers!.TargetLayer;
        var layers = Producer.Layers;
        if ((uint)target >= (uint)layers.Count || layer > target)
        {
            _layers.Follow(layer);
        }
        else if (layer < target && (layers[target].LastPacketMicros == long.MinValue
                     || layers[layer].LastPacketMicros - layers[target].LastPacketMicros > FollowSilenceMicros))
        {
            _layers.Follow(layer);
        }
    }

    /// <summary>A followed layer silent this long (against another that arrives) is given up.</summary>
    private const long FollowSilenceMicros = 1_500_000;

    /// <summary>
    /// The subscriber lost these packets: resend what the cache still holds, each packet at most once per resend
    /// interval and within the subscriber's byte budget (<see cref="RetransmissionLimiter"/>), so a NACK full of
    /// duplicates, or the same NACK repeated, cannot make the node amplify traffic.
    /// </summary>
    public RetransmitResult Retransmit(ReadOnlySpan<ushort> sequenceNumbers)
    {
        int sent = 0, repeated = 0, overBudget = 0;
        foreach (var seq in sequenceNumbers)
        {
            if (IsClosed || !_cache.TryGet(seq, out var stored))
            {
                continue;
            }

            switch (_resends.Admit(seq, stored.Length))
            {
                case RetransmissionDecision.Repeated:
                    repeated++;
                    continue;
                case RetransmissionDecision.OverBudget:
                    overBudget++;
                    continue;
            }

            var buffer = Transport.SendBuffer;
            if (Rtx is { } rtx)
            {
                // RFC 4588 §4: the RTX stream's own SSRC, payload type and next sequence number; the OSN, then the payload.
                if (!RtxPacket.TryWrap(stored, buffer[..(buffer.Length - Webinar.Media.Srtp.SrtpSession.MaxOverhead)], rtx.PayloadType,
                        _rtxSequenceNumber, rtx.Ssrc, out var length))
                {
                    continue;
                }

                _rtxSequenceNumber++;
                RtxPacketsSent++;
                Transport.SendRtp(buffer, length);
            }
            else
            {
                stored.CopyTo(buffer);
                Transport.SendRtp(buffer, stored.Length);
            }

            sent++;
        }

        return new RetransmitResult(sent, repeated, overBudget);
    }

    /// <summary>The subscriber asked for a keyframe (PLI/FIR).</summary>
    public void OnKeyframeRequest()
    {
        if (_layers is null)
        {
            Producer.RequestKeyframe();
        }
        else
        {
            Producer.RequestKeyframe(_layers.CurrentLayer == LayerSelector.NoLayer ? _layers.TargetLayer : _layers.CurrentLayer);
        }
    }

    /// <summary>The transport became connected (or the consumer was created on a connected one): start with a keyframe.</summary>
    public void OnTransportConnected()
    {
        if (Producer.Kind == MediaKind.Video)
        {
            _waitingForKeyframe = _gateOnKeyframe;
            if (_layers is null)
            {
                Producer.RequestKeyframe();
            }
            else
            {
                _layers.Restart();
                Producer.RequestKeyframe(_layers.TargetLayer);
            }
        }
    }

    public void OnProducerClosed()
    {
        IsClosed = true;
        Transport.OnConsumerClosed(this);
    }

    public void Dispose()
    {
        if (!IsClosed)
        {
            IsClosed = true;
            Producer.Detach(this);
        }

        _cache.Dispose();
    }
}

/// <summary>A consumer's retransmission stream (RFC 4588, SSRC-multiplexed): its SSRC and the rtx payload type whose apt is the consumer's.</summary>
internal readonly record struct ConsumerRtx(uint Ssrc, byte PayloadType);

/// <summary>What one NACK made a consumer do: packets resent, and requests refused as repeats or over budget.</summary>
internal readonly record struct RetransmitResult(int Sent, int Repeated, int OverBudget);

/// <summary>What a consumer needs from the subscriber's transport.</summary>
internal interface IConsumerTransport
{
    bool IsConnected { get; }

    /// <summary>How much this subscriber's NACKs may make its consumers resend.</summary>
    RetransmissionOptions Retransmission { get; }

    /// <summary>A loop-owned scratch buffer with room for a full datagram plus the SRTP tag.</summary>
    Span<byte> SendBuffer { get; }

    /// <summary>Protects <paramref name="length"/> bytes of plain RTP in <paramref name="buffer"/> in place and sends them.</summary>
    void SendRtp(Span<byte> buffer, int length);

    /// <summary>The consumer's producer is gone; the transport forgets the consumer and tells its owner.</summary>
    void OnConsumerClosed(Consumer consumer);
}

/// <summary>
/// The padding-only probe packet (RFC 3550 §5.1). On a media stream one may go only after the last packet of a frame
/// (marker bit set), which <see cref="Consumer.TrySendPadding"/> keeps to. A receiver does not store padding with the frame's packets, so one taking a
/// sequence number inside a frame leaves the frame with a hole it never NACKs: nothing decodes until the next keyframe.
/// </summary>
internal static class Padding
{
    /// <summary>Writes the header (V=2, P, X with one one-byte extension for the transport-wide sequence number) and the padding.</summary>
    public static void Write(Span<byte> buffer, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc, int paddingBytes, byte transportSequenceExtensionId)
    {
        buffer[0] = 0xB0; // V=2, P=1, X=1
        buffer[1] = payloadType;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequenceNumber);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
        buffer[12] = 0xBE;
        buffer[13] = 0xDE;
        buffer[14] = 0;
        buffer[15] = 1;
        buffer[16] = (byte)((transportSequenceExtensionId << 4) | 1);
        buffer[17] = 0;
        buffer[18] = 0;
        buffer[19] = 0;
        var length = RtpPacket.FixedHeaderLength + 8 + paddingBytes;
        buffer.Slice(20, paddingBytes - 1).Clear();
        buffer[length - 1] = (byte)paddingBytes;
    }
}

/// <summary>
/// Which VP8 temporal layers (RFC 7741 TID) a consumer forwards: everything up to <see cref="Current"/>. It moves to the
/// target only where the decoder can follow: down at the start of any frame (the frames left depend on nothing dropped),
/// up at a keyframe, or at the first packet of a frame of a higher layer marked layer-sync (Y: it references only
/// base-layer frames), as mediasoup's SimulcastConsumer does. Packets without a TID always pass. Loop thread only.
/// </summary>
internal sealed class TemporalLayers
{
    /// <summary>The highest TID forwarded now; <see cref="int.MaxValue"/>: all.</summary>
    public int Current { get; private set; } = int.MaxValue;

    /// <summary>The target is above <see cref="Current"/> and the last frame could not be the switch point.</summary>
    public bool WaitsForSync { get; private set; }

    /// <summary>Whether the packet goes out; first moves <see cref="Current"/> toward <paramref name="target"/> where the decoder can follow.</summary>
    public bool Forwards(in Vp8PayloadDescriptor descriptor, bool keyframe, int target)
    {
        var tid = descriptor.TemporalLayer;
        if (tid == Vp8PayloadDescriptor.None)
        {
            return true;
        }

        if (descriptor.IsStartOfFrame)
        {
            WaitsForSync = false;
            if (target != Current && (keyframe || target < Current))
            {
                Current = target;
            }
            else if (target > Current && tid > Current && tid <= target && descriptor.LayerSync)
            {
                Current = tid;
            }
            else if (target > Current && tid > Current)
            {
                WaitsForSync = true; // a higher layer's frame that depends on frames not sent: a keyframe gets there sooner
            }
        }

        return tid <= Current;
    }
}
