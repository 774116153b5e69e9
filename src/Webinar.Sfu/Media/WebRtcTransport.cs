using System.Diagnostics;
using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;

namespace Webinar.Sfu.Media;

/// <summary>What a browser's transport reports to the peer connection that owns it.</summary>
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
/// One browser's peer connection on this node: ICE-lite (consent freshness included), a passive DTLS-SRTP
/// association, and transport-wide congestion control feedback so the browser's bandwidth estimate can ramp up.
/// Everything else (RTCP, reports, NACKs, keyframes) is <see cref="MediaTransport"/>'s. Loop thread only, except the
/// DTLS handshake, which runs on its own thread and sends through <see cref="IDatagramSender"/>.
/// </summary>
internal sealed class WebRtcTransport : MediaTransport, IDatagramSender
{
    private readonly long _feedbackInterval;

    private readonly IWebRtcTransportListener _listener;
    private readonly TransportFeedbackRecorder _feedback = new();
    private readonly DtlsTransport _dtls;
    private volatile MediaPath? _path;
    private long _nextFeedback;
    private bool _handshakeStarted;

    public WebRtcTransport(NodeMedia node, DtlsFingerprint remoteFingerprint, string remoteUfrag, IWebRtcTransportListener listener)
        : base(node)
    {
        _listener = listener;
        _feedbackInterval = node.Time.TimestampFrequency / 10;
        Ice = new IceLiteAgent(IceCredentials.Generate(), node.Time) { RemoteUfrag = remoteUfrag };
        _dtls = new DtlsTransport(DtlsRole.Server, node.Certificate, remoteFingerprint, this, timeProvider: node.Time, logger: node.DtlsLogger);
    }

    public IceLiteAgent Ice { get; }

    public string LocalUfrag => Ice.LocalCredentials.Ufrag;

    /// <summary>The RFC 8285 id the browser uses for transport-wide sequence numbers (0: not negotiated).</summary>
    public byte TransportWideSequenceExtensionId { get; set; }

    protected override MediaPath? Path => _path;

    /// <summary>The selected pair: the local socket (UDP or ICE-TCP connection) and the browser's address; null before ICE.</summary>
    public MediaPath? SelectedPath => _path;

    /// <summary>
    /// An ICE check that came in on <paramref name="via"/> from <paramref name="from"/>: answered through the same
    /// socket, so the response leaves from the address and port the check was sent to. A check from an address or
    /// connection another transport or a relay link owns never gets here (see <see cref="NodeMedia.OnDatagram"/>),
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
            Node.Counters.Malformed++;
            return;
        }

        via.Send(response[..length], from);
        if (result == IceLiteResult.Rejected)
        {
            return;
        }

        if (tcp is not null && tcp.Owner is null)
        {
            // An authenticated check claims the connection for this transport (one connection, one candidate pair).
            Node.TryBind(tcp, this);
        }

        var current = _path;
        var nominatedHere = result == IceLiteResult.AnsweredAndSelected
            || (Ice.IsSelected(from) && current is not null && current.Socket != via && IsNomination(datagram));
        if (!nominatedHere)
        {
            return;
        }

        // Selected (first valid check, or a nomination): media follows the pair, from the local socket it names.
        var remote = tcp?.RemoteAddress ?? NodeMedia.Copy(from);
        if (tcp is null && !Node.TryBind(remote, this))
        {
            return;
        }

        if (tcp is not null)
        {
            Node.ReleaseAddress(this);
        }

        _path = new MediaPath(via, remote);
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

    protected override void OnRtpReceived(RtpPacket packet, long nowMicros)
    {
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
            return;
        }

        if (!Ice.HasConsent())
        {
            Close("consent-expired");
            return;
        }

        base.OnTick(now);
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

        var profile = (SrtpProfile)keys.ProtectionProfile;
        StartSrtp(new SrtpSession(profile, keys.RemoteMasterKey, keys.RemoteMasterSalt), new SrtpSession(profile, keys.LocalMasterKey, keys.LocalMasterSalt));
        _listener.OnTransportConnected(this);
    }

    protected override void OnConsumerClosed(Consumer consumer) => _listener.OnConsumerClosed(this, consumer);

    protected override void OnClosed(string reason, IReadOnlyList<Producer> producers)
    {
        _dtls.Close();
        _listener.OnTransportClosed(this, reason);
    }
}
