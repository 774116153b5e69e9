using System.Diagnostics;
using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media.Bandwidth;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>What a browser's transport reports to the peer connection that owns it.</summary>
internal interface IWebRtcTransportListener : IAllocationListener
{
    /// <summary>The transport is gone (DTLS failed, consent lapsed, closed locally). Called once, on the loop thread.</summary>
    void OnTransportClosed(WebRtcTransport transport, string reason);

    /// <summary>A consumer of this transport lost its producer (the publisher left or unpublished).</summary>
    void OnConsumerClosed(WebRtcTransport transport, Consumer consumer);
}

/// <summary>
/// One browser's peer connection on this node: ICE-lite, a passive DTLS-SRTP association, and transport-wide
/// congestion control feedback so the browser's bandwidth estimate can ramp up. Liveness: an ICE-lite node sends no
/// consent checks of its own (RFC 7675 puts them on the full agent), so the transport is alive while authenticated
/// traffic arrives on the selected pair (a valid Binding request, SRTP or SRTCP) and is closed after
/// <see cref="NegotiationSettings.SilenceTimeout"/> without any; a peer such as libnice, which keeps the pair up with
/// Binding indications and sends no more requests once nominated, stays connected while its media flows. A transport
/// that never connects is closed after <see cref="NegotiationSettings.ConnectTimeout"/>.
/// Everything else (RTCP, reports, NACKs, keyframes) is <see cref="MediaTransport"/>'s. Loop thread only, except the
/// DTLS handshake, which runs on its own thread and sends through <see cref="IDatagramSender"/>.
/// </summary>
internal sealed class WebRtcTransport : MediaTransport, IDatagramSender
{
    private readonly long _feedbackInterval;

    private readonly IWebRtcTransportListener _listener;
    private readonly TransportFeedbackRecorder _feedback = new();
    private readonly DtlsTransport _dtls;
    private readonly SubscriberBandwidth _bandwidth;
    private volatile MediaPath? _path;
    private readonly long _connectDeadline;
    private readonly long _silenceMicros;
    private long _nextFeedback;
    private long _lastAuthenticatedMicros;
    private bool _handshakeStarted;

    public WebRtcTransport(MediaWorker node, DtlsFingerprint remoteFingerprint, string remoteUfrag, IWebRtcTransportListener listener)
        : this(node, remoteFingerprint, remoteUfrag, listener, NegotiationSettings.Default)
    {
    }

    public WebRtcTransport(MediaWorker node, DtlsFingerprint remoteFingerprint, string remoteUfrag, IWebRtcTransportListener listener,
        NegotiationSettings settings)
        : base(node)
    {
        _listener = listener;
        _connectDeadline = node.NowMicros() + (long)settings.ConnectTimeout.TotalMicroseconds;
        _silenceMicros = (long)settings.SilenceTimeout.TotalMicroseconds;
        _feedbackInterval = node.Time.TimestampFrequency / 10;
        Ice = new IceLiteAgent(IceCredentials.Generate(), node.Time) { RemoteUfrag = remoteUfrag };
        _bandwidth = new SubscriberBandwidth(node.Limits.Bandwidth, listener);
        _dtls = new DtlsTransport(DtlsRole.Server, node.Certificate, remoteFingerprint, this, timeProvider: node.Time, logger: node.DtlsLogger);
    }

    public IceLiteAgent Ice { get; }

    public string LocalUfrag => Ice.LocalCredentials.Ufrag;

    /// <summary>The RFC 8285 id the browser uses for transport-wide sequence numbers (0: not negotiated).</summary>
    public byte TransportWideSequenceExtensionId
    {
        get => _bandwidth.ExtensionId;
        set => _bandwidth.ExtensionId = value;
    }

    /// <summary>The browser's downlink estimate and the layers chosen for it.</summary>
    public SubscriberBandwidth Bandwidth => _bandwidth;

    protected override void OnSendingRtp(Span<byte> packet) => _bandwidth.OnSending(packet, Node.NowMicros());

    protected override void OnTransportFeedback(RtcpTransportFeedback feedback) => _bandwidth.OnFeedback(feedback, Node.NowMicros());

    protected override MediaPath? Path => _path;

    /// <summary>The selected pair: the local socket (UDP or ICE-TCP connection) and the browser's address; null before ICE.</summary>
    public MediaPath? SelectedPath => _path;

    /// <summary>
    /// An ICE check that came in on <paramref name="via"/> from <paramref name="from"/>: answered through the same
    /// socket, so the response leaves from the address and port the check was sent to. A check from an address or
    /// connection another transport or a relay link owns never gets here (see <see cref="MediaWorker.OnDatagram"/>),
    /// and is refused again here before it could move the selected pair. Loop thread.
    /// </summary>
    public void OnStun(Span<byte> datagram, SocketAddress from, MediaSocket via)
    {
        var tcp = via as IceTcpConnection;
        if (tcp is null ? Node.IsOwnedByOther(from, this) : tcp.Owner is { } owner && owner != this)
        {
            Node.Counters.SpoofedChecks++;
            return;
        }

        Span<byte> response = stackalloc byte[IceLiteAgent.MaxResponseLength];
        var result = Ice.ProcessRequest(datagram, from, response, out var length);
        if (result == IceLiteResult.Dropped)
        {
            // A Binding indication is a keepalive (RFC 8445 §11), unauthenticated: neither an error nor proof of life.
            if (!IsBindingIndication(datagram))
            {
                Node.Counters.Malformed++;
            }

            return;
        }

        Node.Counters.StunAnswered++;
        via.Send(response[..length], from);
        if (result == IceLiteResult.Rejected)
        {
            return;
        }

        if (Ice.IsSelected(from))
        {
            _lastAuthenticatedMicros = Node.NowMicros();
        }

        // An authenticated check validates its pair: what arrives on it is this transport's (mediasoup keeps every
        // validated tuple the same way); media leaves on the selected pair only.
        SocketAddress? validated = null;
        if (tcp is not null)
        {
            if (tcp.Owner is null)
            {
                Node.TryBind(tcp, this);
            }
        }
        else if (!Node.IsOwnedBy(from, this))
        {
            validated = MediaWorker.Copy(from);
            if (!Node.TryBind(validated, this))
            {
                return;
            }
        }

        var current = _path;
        var nominatedHere = result == IceLiteResult.AnsweredAndSelected
            || (Ice.IsSelected(from) && current is not null && current.Socket != via && IsNomination(datagram));
        if (!nominatedHere)
        {
            return;
        }

        // Selected (first valid check, or a nomination): media follows the pair, from the local socket it names.
        _path = new MediaPath(via, tcp?.RemoteAddress ?? validated ?? MediaWorker.Copy(from));
        StartHandshake();
    }

    /// <summary>The ICE-TCP connection of <paramref name="connection"/>'s pair closed: the pair is gone with it.</summary>
    public void OnPathClosed(IceTcpConnection connection)
    {
        if (!IsClosed && _path?.Socket == connection)
        {
            Close("ice-tcp-closed");
        }
    }

    private static bool IsNomination(ReadOnlySpan<byte> datagram) =>
        Webinar.Media.Stun.StunMessage.TryParse(datagram, out var message) && message.HasAttribute(Webinar.Media.Stun.StunAttributeType.UseCandidate);

    public void OnDtls(Span<byte> datagram) => _dtls.OnDatagram(datagram);

    protected override void OnRtcpReceived() => _lastAuthenticatedMicros = Node.NowMicros();

    protected override void OnRtpReceived(RtpPacket packet, long nowMicros)
    {
        _lastAuthenticatedMicros = nowMicros;
        if (TransportWideSequenceExtensionId != 0 && packet.TryGetTransportSequenceNumber(TransportWideSequenceExtensionId, out var twSeq))
        {
            _feedback.OnPacket(twSeq, nowMicros);
        }
    }

    /// <summary>DTLS handshake datagrams (handshake thread or thread pool).</summary>
    void IDatagramSender.Send(ReadOnlySpan<byte> datagram)
    {
        _path?.Send(datagram);
    }

    public override void OnTick(long now)
    {
        if (!IsConnected)
        {
            if (!IsClosed && Node.NowMicros() > _connectDeadline)
            {
                Close(MediaCloseReasons.ConnectTimeout);
            }

            return;
        }

        if (Node.NowMicros() - _lastAuthenticatedMicros > _silenceMicros)
        {
            Close("consent-expired");
            return;
        }

        base.OnTick(now);
        _bandwidth.OnTick(Consumers, Node.NowMicros());
        if (now >= _nextFeedback)
        {
            _nextFeedback = now + _feedbackInterval;
            var mediaSsrc = FirstProducerSsrc();
            var buffer = Node.RtcpBuffer;
            while (_feedback.TryBuildFeedback(buffer, RtcpSsrc, mediaSsrc, out var feedbackLength))
            {
                SendRtcp(buffer, feedbackLength);
            }
        }
    }

    private static bool IsBindingIndication(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= 2 && datagram[0] == 0x00 && datagram[1] == 0x11;

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
            Node.Loop.Post(() => OnHandshakeCompleted(keys));
            var ended = await _dtls.Closed.ConfigureAwait(false);
            Node.Loop.Post(() => Close("dtls-" + ended.ToString().ToLowerInvariant()));
        }
        catch (DtlsHandshakeException e)
        {
            Node.Loop.Post(() => Close("dtls-" + e.Error.ToString().ToLowerInvariant()));
        }
        catch (OperationCanceledException)
        {
            Node.Loop.Post(() => Close("dtls-cancelled"));
        }
    }

    private void OnHandshakeCompleted(DtlsSrtpKeys keys)
    {
        if (IsClosed)
        {
            return;
        }

        _lastAuthenticatedMicros = Node.NowMicros();
        var profile = (SrtpProfile)keys.ProtectionProfile;
        StartSrtp(new SrtpSession(profile, keys.RemoteMasterKey, keys.RemoteMasterSalt), new SrtpSession(profile, keys.LocalMasterKey, keys.LocalMasterSalt));
    }

    protected override void OnConsumerClosed(Consumer consumer) => _listener.OnConsumerClosed(this, consumer);

    protected override void OnClosed(string reason)
    {
        _dtls.Close();
        _listener.OnTransportClosed(this, reason);
    }
}
