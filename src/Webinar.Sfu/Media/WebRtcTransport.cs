using System.Diagnostics;
using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;

using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>What a transport reports to whoever owns it (the attendee's peer connection).</summary>
internal interface IWebRtcTransportListener
{
    /// <summary>ICE and DTLS completed: SRTP flows both ways.</summary>
    void OnTransportConnected(WebRtcTransport transport);

    /// <summary>The transport is gone (DTLS failed, consent lapsed, closed locally). Called once, on the loop thread.</summary>
    void OnTransportClosed(WebRtcTransport transport, string reason);

    /// <summary>A consumer of this transport lost its producer (the publisher left or unpublished).</summary>
    void OnConsumerClosed(WebRtcTransport transport, Consumer consumer);
}

/// <summary>
/// One browser's peer connection on this node: ICE-lite, a passive DTLS-SRTP association, and SRTP both ways,
/// composed from the media stack's parts. It owns the producers (tracks the browser sends) and consumers (tracks it
/// receives), demultiplexes RTCP feedback to them, and sends receiver reports, sender reports, NACKs, keyframe
/// requests and transport-wide congestion control feedback on the media loop's ticks. Loop thread only, except the
/// DTLS handshake, which runs on its own thread and sends through <see cref="IDatagramSender"/>.
/// </summary>
internal sealed class WebRtcTransport : IProducerTransport, IConsumerTransport, IDatagramSender
{
    private static readonly long FeedbackInterval = Stopwatch.Frequency / 10;
    private static readonly long ReportInterval = Stopwatch.Frequency;

    private readonly NodeMedia _node;
    private readonly IWebRtcTransportListener _listener;
    private readonly TransportFeedbackRecorder _feedback = new();
    private readonly KeyframeRequester _keyframes;
    private readonly Dictionary<uint, Producer> _producersBySsrc = [];
    private readonly Dictionary<uint, Consumer> _consumersBySsrc = [];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
    private readonly DtlsTransport _dtls;
    private SrtpSession? _srtpIn;
    private SrtpSession? _srtpOut;
    private volatile SocketAddressHolder? _remote;
    private long _nextFeedback;
    private long _nextReport;
    private bool _handshakeStarted;
    private bool _closed;

    public WebRtcTransport(NodeMedia node, DtlsFingerprint remoteFingerprint, string remoteUfrag, IWebRtcTransportListener listener)
    {
        _node = node;
        _listener = listener;
        Ice = new IceLiteAgent(IceCredentials.Generate(), node.Time) { RemoteUfrag = remoteUfrag };
        _keyframes = new KeyframeRequester(node.Time);
        _dtls = new DtlsTransport(DtlsRole.Server, node.Certificate, remoteFingerprint, this, timeProvider: node.Time, logger: node.DtlsLogger);
    }

    public IceLiteAgent Ice { get; }

    public string LocalUfrag => Ice.LocalCredentials.Ufrag;

    public bool IsConnected => _srtpOut is not null && !_closed;

    public bool IsClosed => _closed;

    public Span<byte> SendBuffer => _node.SendBuffer;

    /// <summary>The RFC 8285 id the browser uses for transport-wide sequence numbers (0: not negotiated).</summary>
    public byte TransportWideSequenceExtensionId { get; set; }

    public IEnumerable<Consumer> Consumers => _consumersBySsrc.Values;

    public IEnumerable<Producer> Producers => _producersBySsrc.Values;

    // ---- wiring (loop thread) ----

    public void AddProducer(Producer producer) => _producersBySsrc[producer.Ssrc] = producer;

    public void RemoveProducer(Producer producer)
    {
        _producersBySsrc.Remove(producer.Ssrc);
        _keyframes.Remove(producer.Ssrc);
    }

    public void ChangeProducerSsrc(Producer producer, uint ssrc)
    {
        _producersBySsrc.Remove(producer.Ssrc);
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

    // ---- datagrams (loop thread) ----

    public void OnStun(Span<byte> datagram, System.Net.SocketAddress from)
    {
        Span<byte> response = stackalloc byte[IceLiteAgent.MaxResponseLength];
        var result = Ice.ProcessRequest(datagram, from, response, out var length);
        if (result == IceLiteResult.Dropped)
        {
            _node.Counters.Malformed++;
            return;
        }

        _node.Loop.Send(response[..length], from);
        if (result == IceLiteResult.AnsweredAndSelected)
        {
            var remote = new SocketAddressHolder(from);
            _remote = remote;
            _node.Bind(remote.Address, this);
            StartHandshake();
        }
    }

    public void OnDtls(Span<byte> datagram) => _dtls.OnDatagram(datagram);

    public void OnRtp(Span<byte> datagram)
    {
        var srtp = _srtpIn;
        if (srtp is null)
        {
            return;
        }

        if (srtp.UnprotectRtp(datagram, datagram.Length, out var length) != SrtpResult.Ok)
        {
            _node.Counters.SrtpRejected++;
            return;
        }

        var packet = datagram[..length];
        if (!RtpPacket.TryParse(packet, out var view))
        {
            _node.Counters.Malformed++;
            return;
        }

        var nowMicros = _node.NowMicros();
        if (TransportWideSequenceExtensionId != 0 && view.TryGetTransportSequenceNumber(TransportWideSequenceExtensionId, out var twSeq))
        {
            _feedback.OnPacket(twSeq, nowMicros);
        }

        if (_producersBySsrc.TryGetValue(view.Ssrc, out var producer))
        {
            producer.OnRtp(packet, view, nowMicros);
        }
    }

    public void OnRtcp(Span<byte> datagram)
    {
        var srtp = _srtpIn;
        if (srtp is null)
        {
            return;
        }

        if (srtp.UnprotectRtcp(datagram, datagram.Length, out var length) != SrtpResult.Ok)
        {
            _node.Counters.SrtpRejected++;
            return;
        }

        _node.Counters.RtcpReceived++;
        var reader = new RtcpCompoundReader(datagram[..length]);
        while (reader.TryReadNext(out var packet))
        {
            HandleRtcp(packet);
        }

        if (reader.IsMalformed)
        {
            _node.Counters.Malformed++;
        }
    }

    private void HandleRtcp(RtcpPacket packet)
    {
        switch (packet.PacketType)
        {
            case RtcpPacketType.SenderReport when RtcpSenderReport.TryParse(packet, out var sr):
                if (_producersBySsrc.TryGetValue(sr.Ssrc, out var producer))
                {
                    producer.OnSenderReport(sr.NtpTimestamp, sr.RtpTimestamp, _node.NowMicros());
                }

                break;
            case RtcpPacketType.TransportFeedback when packet.Count == RtcpFeedbackFormat.GenericNack && RtcpGenericNack.TryParse(packet, out var nack):
                if (_consumersBySsrc.TryGetValue(nack.MediaSsrc, out var nacked))
                {
                    Span<ushort> lost = stackalloc ushort[256];
                    var count = nack.GetLostSequenceNumbers(lost);
                    _node.Counters.NacksAnswered += nacked.Retransmit(lost[..count]);
                }

                break;
            case RtcpPacketType.PayloadFeedback when packet.Count == RtcpFeedbackFormat.PictureLossIndication && RtcpPictureLossIndication.TryParse(packet, out var pli):
                if (_consumersBySsrc.TryGetValue(pli.MediaSsrc, out var wantsKeyframe))
                {
                    wantsKeyframe.OnKeyframeRequest();
                }

                break;
            case RtcpPacketType.PayloadFeedback when packet.Count == RtcpFeedbackFormat.FullIntraRequest && RtcpFullIntraRequest.TryParse(packet, out var fir):
                for (var i = 0; i < fir.EntryCount; i++)
                {
                    fir.GetEntry(i, out var ssrc, out _);
                    if (_consumersBySsrc.TryGetValue(ssrc, out var firConsumer))
                    {
                        firConsumer.OnKeyframeRequest();
                    }
                }

                break;
        }
    }

    // ---- sending (loop thread) ----

    public void SendRtp(Span<byte> buffer, int length)
    {
        var srtp = _srtpOut;
        var remote = _remote;
        if (srtp is null || remote is null || _closed)
        {
            return;
        }

        if (srtp.ProtectRtp(buffer, length, out var protectedLength) == SrtpResult.Ok)
        {
            _node.Counters.RtpForwarded++;
            _node.Loop.Send(buffer[..protectedLength], remote.Address);
        }
    }

    private void SendRtcp(Span<byte> buffer, int length)
    {
        var srtp = _srtpOut;
        var remote = _remote;
        if (srtp is null || remote is null || _closed)
        {
            return;
        }

        if (srtp.ProtectRtcp(buffer, length, out var protectedLength) == SrtpResult.Ok)
        {
            _node.Loop.Send(buffer[..protectedLength], remote.Address);
        }
    }

    /// <summary>DTLS handshake datagrams (handshake thread or thread pool).</summary>
    void IDatagramSender.Send(ReadOnlySpan<byte> datagram)
    {
        var remote = _remote;
        if (remote is not null)
        {
            _node.Loop.Send(datagram, remote.Address);
        }
    }

    public void RequestKeyframe(Producer producer)
    {
        if (!IsConnected || !_keyframes.Request(producer.Ssrc))
        {
            return;
        }

        SendKeyframeRequest(producer.Ssrc);
    }

    private void SendKeyframeRequest(uint ssrc)
    {
        var buffer = _node.RtcpBuffer;
        if (_keyframes.TryWriteRequest(buffer, _rtcpSsrc, ssrc, KeyframeRequestKind.PictureLossIndication, out var length))
        {
            _node.Counters.KeyframeRequestsSent++;
            SendRtcp(buffer, length);
        }
    }

    void IConsumerTransport.OnConsumerClosed(Consumer consumer)
    {
        _consumersBySsrc.Remove(consumer.Ssrc);
        consumer.Dispose();
        _listener.OnConsumerClosed(this, consumer);
    }

    // ---- timers (loop thread) ----

    public void OnTick(long now)
    {
        if (_closed)
        {
            return;
        }

        if (!IsConnected)
        {
            return;
        }

        if (!Ice.HasConsent())
        {
            Close("consent-expired");
            return;
        }

        var buffer = _node.RtcpBuffer;
        foreach (var producer in _producersBySsrc.Values)
        {
            if (producer.Nacks.TryBuildNack(buffer, _rtcpSsrc, producer.Ssrc, out var nackLength))
            {
                SendRtcp(buffer, nackLength);
            }
        }

        Span<uint> due = stackalloc uint[16];
        var dueCount = _keyframes.CollectDue(due);
        for (var i = 0; i < dueCount; i++)
        {
            SendKeyframeRequest(due[i]);
        }

        if (now >= _nextFeedback)
        {
            _nextFeedback = now + FeedbackInterval;
            var mediaSsrc = 0u;
            foreach (var producer in _producersBySsrc.Values)
            {
                mediaSsrc = producer.Ssrc;
                break;
            }

            while (_feedback.TryBuildFeedback(buffer, _rtcpSsrc, mediaSsrc, out var feedbackLength))
            {
                SendRtcp(buffer, feedbackLength);
            }
        }

        if (now >= _nextReport)
        {
            _nextReport = now + ReportInterval + Random.Shared.Next(0, (int)(ReportInterval / 5));
            SendReports(buffer);
        }
    }

    private void SendReports(Span<byte> buffer)
    {
        var nowMicros = _node.NowMicros();
        if (_producersBySsrc.Count > 0)
        {
            Span<ReportBlock> blocks = stackalloc ReportBlock[Math.Min(_producersBySsrc.Count, 31)];
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

            if (RtcpReceiverReport.TryWrite(buffer, _rtcpSsrc, blocks[..i], out var rrLength))
            {
                SendRtcp(buffer, rrLength);
            }
        }

        foreach (var consumer in _consumersBySsrc.Values)
        {
            var producer = consumer.Producer;
            if (!consumer.HasSent || !producer.HasSenderReport)
            {
                continue;
            }

            // The producer's last SR says which RTP time matched which wall-clock time; the consumer says the same
            // in its own timestamp space, which keeps the subscriber's audio and video in sync.
            if (RtcpSenderReport.TryWrite(buffer, consumer.Ssrc, producer.LastSenderReportNtp,
                    consumer.MapTimestamp(producer.LastSenderReportRtp), consumer.PacketsSent, consumer.OctetsSent,
                    ReadOnlySpan<ReportBlock>.Empty, out var srLength))
            {
                SendRtcp(buffer, srLength);
            }
        }
    }

    // ---- lifecycle ----

    private void StartHandshake()
    {
        if (_handshakeStarted)
        {
            return;
        }

        _handshakeStarted = true;
        _ = RunHandshakeAsync();
    }

    private async Task RunHandshakeAsync()
    {
        try
        {
            var keys = await _dtls.HandshakeAsync().ConfigureAwait(false);
            _node.Loop.Post(() => OnHandshakeCompleted(keys));
            var ended = await _dtls.Closed.ConfigureAwait(false);
            _node.Loop.Post(() => Close("dtls-" + ended.ToString().ToLowerInvariant()));
        }
        catch (DtlsHandshakeException e)
        {
            _node.Loop.Post(() => Close("dtls-" + e.Error.ToString().ToLowerInvariant()));
        }
        catch (OperationCanceledException)
        {
            _node.Loop.Post(() => Close("dtls-cancelled"));
        }
    }

    private void OnHandshakeCompleted(DtlsSrtpKeys keys)
    {
        if (_closed)
        {
            return;
        }

        var profile = (SrtpProfile)keys.ProtectionProfile;
        _srtpIn = new SrtpSession(profile, keys.RemoteMasterKey, keys.RemoteMasterSalt);
        _srtpOut = new SrtpSession(profile, keys.LocalMasterKey, keys.LocalMasterSalt);
        foreach (var consumer in _consumersBySsrc.Values)
        {
            consumer.OnTransportConnected();
        }

        foreach (var producer in _producersBySsrc.Values)
        {
            if (producer.Kind == MediaKind.Video && producer.Consumers.Length > 0)
            {
                producer.RequestKeyframe();
            }
        }

        _listener.OnTransportConnected(this);
    }

    /// <summary>Closes the transport: its producers end (their consumers elsewhere close), its consumers detach.</summary>
    public void Close(string reason)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _node.Unregister(this);
        _dtls.Close();
        foreach (var consumer in _consumersBySsrc.Values)
        {
            consumer.Dispose();
        }

        _consumersBySsrc.Clear();
        _producersBySsrc.Clear();
        _srtpIn?.Dispose();
        _srtpOut?.Dispose();
        _srtpIn = null;
        _srtpOut = null;
        _listener.OnTransportClosed(this, reason);
    }

    /// <summary>An immutable copy of the selected remote address (the loop's receive address object is reused).</summary>
    private sealed class SocketAddressHolder(System.Net.SocketAddress from)
    {
        public System.Net.SocketAddress Address { get; } = Copy(from);

        private static System.Net.SocketAddress Copy(System.Net.SocketAddress from)
        {
            var copy = new System.Net.SocketAddress(from.Family, from.Size);
            from.Buffer.Span[..from.Size].CopyTo(copy.Buffer.Span);
            return copy;
        }
    }
}
