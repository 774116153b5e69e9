using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Media.Srtp;
using Webinar.Media.Transport;

namespace Webinar.Connector.Client;

/// <summary>Where a <see cref="WebRtcClient"/> is in its life.</summary>
public enum WebRtcClientState
{
    /// <summary>No remote description yet.</summary>
    New,

    /// <summary>ICE checks and then the DTLS handshake are under way.</summary>
    Connecting,

    /// <summary>SRTP keys are in place both ways: media flows.</summary>
    Connected,

    /// <summary>ICE or DTLS failed (see <see cref="WebRtcClient.ConnectedAsync"/>'s exception).</summary>
    Failed,

    Closed,
}

/// <summary>Called on the receive thread for every authenticated RTP packet; the span is valid only during the call.</summary>
public delegate void RtpReceivedHandler(ReceivedStats source, ReadOnlySpan<byte> rtpPacket);

/// <summary>
/// A small WebRTC endpoint in C#: one peer connection over one UDP socket, BUNDLE and rtcp-mux, the controlling ICE
/// role toward an ICE-lite or full peer, DTLS-SRTP in whichever role the SDP gives it, synthetic Opus and VP8 media
/// out, statistics of what comes in. Used by load runs (many synthetic publishers and subscribers) and as the reference
/// for node-to-node links.
/// </summary>
/// <remarks>
/// Threading. One dedicated receive thread (started when a remote description is applied) reads the socket, answers
/// STUN, feeds DTLS, decrypts SRTP/SRTCP, raises <see cref="RtpReceived"/>, and also runs the timers: ICE and consent
/// checks, RTCP receiver reports and PLIs asked for with <see cref="RequestKeyframe"/>. The Send methods belong to one
/// sending thread at a time (the caller's, e.g. a <see cref="MediaPump"/>); NACKed packets and PLI-forced key frames
/// go out on that thread at its next Send call. SDP methods are for the signalling thread, before media flows.
/// Nothing on the packet path allocates.
/// </remarks>
public sealed class WebRtcClient : IDisposable
{
    private const int BufferSize = 1500 + SrtpSession.MaxOverhead;
    private const int RtcpBufferSize = 1500;
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);

    private readonly WebRtcClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Socket _socket;
    private readonly DtlsCertificate _certificate;
    private readonly ClientSdpIdentity _identity;
    private readonly List<ClientTrack> _tracks = [];
    private readonly byte[] _cname;
    private readonly uint _rtcpSsrc = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
    private readonly long _startTimestamp;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly NackRequestQueue _nacks = new();
    private readonly ConcurrentQueue<uint> _keyframeRequests = new();
    private readonly ConcurrentQueue<(uint Ssrc, ushort SequenceNumber)> _nackRequests = new();
    private readonly Dictionary<uint, ReceivedStats> _receivedBySsrc = [];
    private readonly ReportBlock[] _reportBlocks = new ReportBlock[ReportBlock.MaxPerReport];
    private readonly ushort[] _nackScratch = new ushort[512];
    private readonly DatagramSender _dtlsSender;

    // Receive thread.
    private readonly byte[] _receiveBuffer = new byte[BufferSize];
    private readonly byte[] _controlBuffer = new byte[RtcpBufferSize + SrtpSession.MaxOverhead];
    private readonly SocketAddress _receiveAddress;
    private readonly TransportFeedbackRecorder _transportFeedback = new();
    private long _nextReportTicks;
    private long _nextFeedbackTicks;

    // Sending thread.
    private readonly byte[] _sendBuffer = new byte[BufferSize];
    private readonly byte[] _payloadBuffer = new byte[1500];
    private ushort _transportSequenceNumber = (ushort)Random.Shared.Next(0, 0x10000);

    private ClientTrack[] _trackArray = [];
    private byte[][] _midBytes = [];
    private ReceivedStats[] _receivedSnapshot = [];
    private ClientRemoteTransport? _remote;
    private SocketAddress? _remoteAddress;
    private IceControllingClient? _ice;
    private ClientBindingResponder? _responder;
    private DtlsTransport? _dtls;
    private SrtpSession? _sendRtp;
    private SrtpSession? _sendRtcp;
    private SrtpSession? _receiveSrtp;
    private Thread? _receiveThread;
    private volatile bool _srtpReady;
    private volatile bool _stopping;
    private volatile WebRtcClientState _state;
    private bool _dtlsStarted;
    private bool _descriptionApplied;
    private long _rtcpPacketsReceived;
    private long _nacksSent;
    private long _undecryptable;
    private long _stunReceived;

    public WebRtcClient(WebRtcClientOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _options = options ?? WebRtcClientOptions.Default;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _startTimestamp = _time.GetTimestamp();
        _certificate = _options.Certificate ?? DtlsCertificate.Generate(_time);
        _socket = new Socket(_options.LocalAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.ReceiveBufferSize = _options.ReceiveBufferSize;
            _socket.Bind(new IPEndPoint(_options.LocalAddress, 0));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _receiveAddress = new SocketAddress(_options.LocalAddress.AddressFamily);
        string cname = _options.Cname ?? "webinar-" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        _cname = Encoding.UTF8.GetBytes(cname);
        _identity = new ClientSdpIdentity(IceCredentials.Generate(), _certificate.Fingerprint, LocalEndPoint,
            (ulong)RandomNumberGenerator.GetInt32(1, int.MaxValue), cname);
        _dtlsSender = new DatagramSender(this);
    }

    /// <summary>The socket's address (127.0.0.1 and the port the OS chose, by default).</summary>
    public IPEndPoint LocalEndPoint { get; }

    public IceCredentials LocalIceCredentials => _identity.Ice;

    public DtlsFingerprint LocalFingerprint => _certificate.Fingerprint;

    public WebRtcClientState State => _state;

    /// <summary>The DTLS role the remote description gave us (null before one is applied).</summary>
    public DtlsRole? DtlsRole => _remote?.LocalDtlsRole;

    /// <summary>The remote host candidate ICE checks go to.</summary>
    public IPEndPoint? RemoteEndPoint => _remote?.Candidate;

    /// <summary>The negotiated SRTP protection profile, 0 before the handshake.</summary>
    public SrtpProfile SrtpProfile { get; private set; }

    public IReadOnlyList<ClientTrack> Tracks => _tracks;

    /// <summary>Statistics per remote SSRC seen so far (an immutable snapshot array; new SSRCs swap in a new one).</summary>
    public IReadOnlyList<ReceivedStats> Received => Volatile.Read(ref _receivedSnapshot);

    /// <summary>Raised on the receive thread for every authenticated RTP packet, padding-only ones too (they hold a sequence number). Set it before connecting.</summary>
    public RtpReceivedHandler? RtpReceived { get; set; }

    /// <summary>SRTCP packets authenticated and read.</summary>
    public long RtcpPacketsReceived => Volatile.Read(ref _rtcpPacketsReceived);

    /// <summary>Generic NACKs sent (<see cref="WebRtcClientOptions.SendNacks"/>).</summary>
    public long NacksSent => Volatile.Read(ref _nacksSent);

    /// <summary>RTP/RTCP datagrams dropped because they failed SRTP authentication or replay checks.</summary>
    public long UndecryptablePackets => Volatile.Read(ref _undecryptable);

    /// <summary>STUN datagrams received (check responses and, from a full peer, its checks).</summary>
    public long StunPacketsReceived => Volatile.Read(ref _stunReceived);

    /// <summary>ERROR-CODE of the last failed ICE check, 0 if none.</summary>
    public int IceErrorCode => _ice?.LastErrorCode ?? 0;

    /// <summary>True while ICE consent (RFC 7675) holds: a check succeeded within the last 30 s.</summary>
    public bool HasConsent => _ice?.HasConsent() ?? false;

    /// <summary>
    /// Adds an m-line for the next <see cref="CreateOffer"/>. Mids are "0", "1", … in the order added. A track added
    /// after an answer was applied (renegotiation: more receive slots, or sending after a promotion) carries media once
    /// the answer to the next offer is applied. Signalling thread.
    /// </summary>
    public ClientTrack AddTrack(ClientMediaKind kind, ClientTrackDirection direction)
    {
        if (_descriptionApplied && _remote is { LocalDtlsRole: Webinar.Media.Dtls.DtlsRole.Server })
        {
            throw new InvalidOperationException("Tracks are added only when this client makes the offers.");
        }

        if (direction == ClientTrackDirection.Inactive)
        {
            throw new ArgumentException("A track is sent, received or both.", nameof(direction));
        }

        var track = NewTrack(_tracks.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), kind, direction);
        _tracks.Add(track);
        return track;
    }

    /// <summary>The Unified Plan offer for the tracks added so far (a=setup:actpass, one host candidate).</summary>
    public string CreateOffer()
    {
        if (_tracks.Count == 0)
        {
            throw new InvalidOperationException("Add at least one track before making an offer.");
        }

        return SdpWriter.Write(ClientSdp.BuildOffer(_identity, _tracks, _options.OfferRtx));
    }

    /// <summary>
    /// Applies the answer to <see cref="CreateOffer"/> and starts connecting (ICE checks, then DTLS: server when the
    /// answer says a=setup:active, client when it says passive). A later answer (renegotiation) must keep the remote
    /// ICE credentials and fingerprint; it only updates the tracks, and the connection carries on. False with a reason
    /// when the answer is unusable. Signalling thread.
    /// </summary>
    public bool TryApplyAnswer(string answerSdp, out string error)
    {
        if (!SdpParser.TryParse(answerSdp, out var answer, out error)
            || !ClientSdp.TryReadTransport(answer, remoteIsAnswer: true, out var transport, out error))
        {
            return false;
        }

        if (_descriptionApplied)
        {
            var current = _remote!;
            if (transport.IceUfrag != current.IceUfrag || transport.IcePwd != current.IcePwd
                || !transport.Fingerprint.Equals(current.Fingerprint) || !transport.Candidate.Equals(current.Candidate))
            {
                error = "A renegotiation answer changed the ICE credentials, fingerprint or candidate (restarts are not supported).";
                return false;
            }
        }

        if (!ClientSdp.TryApplyAnswerMedia(answer, _tracks, out error))
        {
            return false;
        }

        if (_descriptionApplied)
        {
            PublishTracks();
        }
        else
        {
            Start(transport);
        }

        return true;
    }

    /// <summary>
    /// Answers a remote offer (a server that offers, e.g. a Janus videoroom subscription): every Opus or VP8 m-line
    /// the remote sends becomes a receive-only <see cref="ClientTrack"/>; we answer a=setup:active (DTLS client) and
    /// start connecting. False with a reason when the offer is unusable.
    /// </summary>
    public bool TryAcceptOffer(string offerSdp, out string answerSdp, out string error)
    {
        answerSdp = "";
        if (_descriptionApplied || _tracks.Count != 0)
        {
            error = "This client already has tracks or a remote description.";
            return false;
        }

        if (!SdpParser.TryParse(offerSdp, out var offer, out error)
            || !ClientSdp.TryReadTransport(offer, remoteIsAnswer: false, out var transport, out error)
            || !ClientSdp.TryBuildAnswer(offer, _identity, NewTrack, out var answer, out var tracks, out error))
        {
            return false;
        }

        _tracks.AddRange(tracks);
        answerSdp = SdpWriter.Write(answer);
        Start(transport);
        return true;
    }

    /// <summary>
    /// Completes when SRTP is ready both ways. Faults with <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/>, or with the DTLS failure (<see cref="DtlsHandshakeException"/>).
    /// </summary>
    public Task ConnectedAsync(TimeSpan timeout) => _connected.Task.WaitAsync(timeout, _time);

    /// <summary>Asks the sender of <paramref name="remoteSsrc"/> for a key frame: a PLI goes out within ~10 ms. Any thread.</summary>
    public void RequestKeyframe(uint remoteSsrc) => _keyframeRequests.Enqueue(remoteSsrc);

    /// <summary>
    /// Asks the sender of <paramref name="remoteSsrc"/> to resend one packet: a generic NACK (RFC 4585 §6.2.1) goes out
    /// within ~10 ms. The client's own receive path asks for nothing by itself; this is for tests of the sender. Any thread.
    /// </summary>
    public void RequestRetransmission(uint remoteSsrc, ushort sequenceNumber) => _nackRequests.Enqueue((remoteSsrc, sequenceNumber));

    /// <summary>Sends one synthetic 20 ms Opus packet (about 100 bytes) on an audio track. Sending thread.</summary>
    public bool SendAudio(ClientTrack track)
    {
        ArgumentNullException.ThrowIfNull(track);
        int length = SyntheticMedia.WriteAudio(_payloadBuffer, track.SequenceNumber, track.Ssrc);
        bool sent = SendRtp(track, _payloadBuffer.AsSpan(0, length), marker: false, track.Timestamp);
        track.Timestamp += 960;
        return sent;
    }

    /// <summary>
    /// Sends one synthetic VP8 frame of about <paramref name="frameBytes"/> payload bytes (key frames are
    /// <see cref="WebRtcClientOptions.KeyframeSizeFactor"/> times larger), split into packets of at most
    /// <see cref="SyntheticMedia.MaxVideoPayloadLength"/> bytes, the marker bit on the last. A key frame goes out every
    /// <see cref="WebRtcClientOptions.KeyframeInterval"/> frames, when <paramref name="forceKeyframe"/>, and after a
    /// PLI/FIR. Advances the RTP timestamp by <paramref name="timestampIncrement"/> (3000 = 30 fps). Returns the packets
    /// sent. Sending thread.
    /// </summary>
    public int SendVideoFrame(ClientTrack track, int frameBytes, bool forceKeyframe = false, uint timestampIncrement = 3000)
    {
        ArgumentNullException.ThrowIfNull(track);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameBytes, 64);
        bool keyframe = forceKeyframe
            || track.FramesSent % Math.Max(1, _options.KeyframeInterval) == 0
            || Interlocked.Exchange(ref track.KeyframePending, 0) != 0;
        if (keyframe)
        {
            Interlocked.Exchange(ref track.KeyframePending, 0);
            frameBytes *= Math.Max(1, _options.KeyframeSizeFactor);
            Interlocked.Increment(ref track._keyframesSent);
        }

        int packets = (frameBytes + SyntheticMedia.MaxVideoPayloadLength - 1) / SyntheticMedia.MaxVideoPayloadLength;
        int perPacket = frameBytes / packets;
        int sent = 0;
        for (int i = 0; i < packets; i++)
        {
            int payloadLength = i == 0 ? perPacket + (frameBytes - (perPacket * packets)) : perPacket;
            int length = SyntheticMedia.WriteVideo(_payloadBuffer, payloadLength, i == 0, keyframe, track.PictureId, frameBytes, track.SequenceNumber, track.Ssrc);
            if (SendRtp(track, _payloadBuffer.AsSpan(0, length), marker: i == packets - 1, track.Timestamp))
            {
                sent++;
            }
        }

        track.Timestamp += timestampIncrement;
        track.PictureId = (ushort)((track.PictureId + 1) & 0x7FFF);
        track.FramesSent++;
        return sent;
    }

    /// <summary>
    /// Sends one RTP packet on <paramref name="track"/> with the next sequence number, the given marker and timestamp,
    /// and the mid, abs-send-time and transport-wide sequence number extensions the answer kept. Keeps a copy for NACKs,
    /// protects it with SRTP and sends it. False before SRTP is ready or when the payload does not fit. Sending thread.
    /// </summary>
    public bool SendRtp(ClientTrack track, ReadOnlySpan<byte> payload, bool marker, uint timestamp)
    {
        ArgumentNullException.ThrowIfNull(track);
        var send = _sendRtp;
        var remote = _remoteAddress;
        int trackIndex = IndexOf(track);
        if (!_srtpReady || send is null || remote is null || trackIndex < 0 || !track.Sends)
        {
            return false;
        }

        RetransmitRequested(send, remote);
        ushort sequenceNumber = track.SequenceNumber;
        var extensions = _remote!.Extensions;
        var writer = new RtpPacketWriter(_sendBuffer, marker, track.PayloadType, sequenceNumber, timestamp, track.Ssrc);
        if (extensions.Mid != 0)
        {
            writer.SetExtension(extensions.Mid, _midBytes[trackIndex]);
        }

        Span<byte> value = stackalloc byte[3];
        if (extensions.AbsSendTime != 0)
        {
            long micros = (long)_time.GetElapsedTime(_startTimestamp).TotalMicroseconds;
            RtpExtensions.TryWriteAbsSendTime(value, RtpExtensions.AbsSendTimeFromMicroseconds(micros));
            writer.SetExtension(extensions.AbsSendTime, value);
        }

        if (extensions.TransportSequenceNumber != 0)
        {
            RtpExtensions.TryWriteTransportSequenceNumber(value, _transportSequenceNumber++);
            writer.SetExtension(extensions.TransportSequenceNumber, value[..2]);
        }

        if (!writer.TryComplete(payload, out int length) || length > 1500 - SrtpSession.MaxOverhead)
        {
            return false;
        }

        track.SequenceNumber++;
        track.Cache.Store(sequenceNumber, _sendBuffer.AsSpan(0, length));
        if (send.ProtectRtp(_sendBuffer, length, out int protectedLength) != SrtpResult.Ok)
        {
            return false;
        }

        if (track.DropOutgoing > 0)
        {
            track.DropOutgoing--;
        }
        else
        {
            SendDatagram(_sendBuffer.AsSpan(0, protectedLength), remote);
        }

        Interlocked.Increment(ref track._packetsSent);
        Interlocked.Add(ref track._bytesSent, payload.Length);
        return true;
    }

    /// <summary>
    /// Retransmits what NACKs asked for, if anything is waiting. The Send methods do this themselves; call it from the
    /// sending thread when it has nothing else to send for a while.
    /// </summary>
    public void ServiceRetransmissions()
    {
        var send = _sendRtp;
        var remote = _remoteAddress;
        if (_srtpReady && send is not null && remote is not null)
        {
            RetransmitRequested(send, remote);
        }
    }

    /// <summary>Protects and sends one plain RTP packet exactly as given (tests of what the node does with odd packets). Sending thread.</summary>
    internal bool SendPlainRtp(ReadOnlySpan<byte> packet)
    {
        var send = _sendRtp;
        var remote = _remoteAddress;
        if (!_srtpReady || send is null || remote is null || packet.Length > 1500 - SrtpSession.MaxOverhead)
        {
            return false;
        }

        packet.CopyTo(_sendBuffer);
        if (send.ProtectRtp(_sendBuffer, packet.Length, out int protectedLength) != SrtpResult.Ok)
        {
            return false;
        }

        SendDatagram(_sendBuffer.AsSpan(0, protectedLength), remote);
        return true;
    }

    /// <summary>The plain RTP packet sent with this sequence number, while the NACK cache still holds it. Sending thread.</summary>
    internal bool TryGetSentPacket(ClientTrack track, ushort sequenceNumber, out ReadOnlySpan<byte> packet) =>
        track.Cache.TryGet(sequenceNumber, out packet);

    public void Dispose()
    {
        if (_state == WebRtcClientState.Closed)
        {
            return;
        }

        _stopping = true;
        _state = WebRtcClientState.Closed;
        _options.ReceiveGroup?.Remove(this);
        _dtls?.Close();
        _socket.Dispose();
        if (_receiveThread is { } thread && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(2));
        }

        _connected.TrySetException(new ObjectDisposedException(nameof(WebRtcClient)));
        _srtpReady = false;
        _sendRtp?.Dispose();
        _sendRtcp?.Dispose();
        _receiveSrtp?.Dispose();
        foreach (var track in _tracks)
        {
            track.Cache.Dispose();
        }
    }

    private ClientTrack NewTrack(string mid, ClientMediaKind kind, ClientTrackDirection direction)
    {
        string stream = "webinar-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        return new ClientTrack(mid, kind, direction, (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue), stream,
            kind == ClientMediaKind.Audio ? "audio-" + mid : "video-" + mid);
    }

    private void Start(ClientRemoteTransport transport)
    {
        _descriptionApplied = true;
        _remote = transport;
        PublishTracks();
        _remoteAddress = transport.Candidate.Serialize();
        _ice = new IceControllingClient(_identity.Ice, transport.IceUfrag, transport.IcePwd, _time);
        _responder = new ClientBindingResponder(_identity.Ice.Ufrag, _identity.Ice.Password, transport.IceUfrag);
        _dtls = new DtlsTransport(transport.LocalDtlsRole, _certificate, transport.Fingerprint, _dtlsSender, _options.Dtls, _time, _logger);
        _state = WebRtcClientState.Connecting;
        if (_options.ReceiveGroup is { } group)
        {
            group.Add(this);
            return;
        }

        _receiveThread = new Thread(static self => ((WebRtcClient)self!).ReceiveLoop())
        {
            IsBackground = true,
            Name = "webrtc-client " + LocalEndPoint.Port,
        };
        _receiveThread.Start(this);
    }

    internal Socket Socket => _socket;

    /// <summary>A <see cref="ClientReceiveGroup"/> thread runs the timers (about every 10 ms).</summary>
    internal void ServiceTimers()
    {
        try
        {
            if (!_stopping)
            {
                Tick();
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or SocketException)
        {
            ServiceFailed(exception);
        }
    }

    /// <summary>A <see cref="ClientReceiveGroup"/> thread reads what the socket holds.</summary>
    internal void ServiceReceive()
    {
        try
        {
            while (!_stopping && _socket.Available > 0)
            {
                int received = _socket.ReceiveFrom(_receiveBuffer, SocketFlags.None, _receiveAddress);
                OnDatagram(_receiveBuffer.AsSpan(0, received));
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or SocketException)
        {
            ServiceFailed(exception);
        }
    }

    private void ServiceFailed(Exception exception)
    {
        if (!_stopping)
        {
            ClientLog.ReceiveLoopEnded(_logger, LocalEndPoint.ToString(), exception.Message);
            Fail(exception);
        }
    }

    /// <summary>
    /// Makes the tracks visible to the sending and receive threads. Tracks are only ever appended, so an index found in
    /// one snapshot stays valid in the next; the mid bytes go first so a reader of the new track array sees them.
    /// </summary>
    private void PublishTracks()
    {
        var tracks = _tracks.ToArray();
        var mids = new byte[tracks.Length][];
        for (int i = 0; i < tracks.Length; i++)
        {
            mids[i] = Encoding.UTF8.GetBytes(tracks[i].Mid);
        }

        Volatile.Write(ref _midBytes, mids);
        Volatile.Write(ref _trackArray, tracks);
    }

    private void ReceiveLoop()
    {
        try
        {
            long nextTick = 0;
            int pollMicros = (int)TickInterval.TotalMicroseconds;
            while (!_stopping)
            {
                long now = _time.GetTimestamp();
                if (now >= nextTick)
                {
                    Tick();
                    nextTick = now + (long)(TickInterval.TotalSeconds * _time.TimestampFrequency);
                }

                if (_socket.Available == 0 && !_socket.Poll(pollMicros, SelectMode.SelectRead))
                {
                    continue;
                }

                int received = _socket.ReceiveFrom(_receiveBuffer, SocketFlags.None, _receiveAddress);
                OnDatagram(_receiveBuffer.AsSpan(0, received));
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or SocketException)
        {
            if (!_stopping)
            {
                ClientLog.ReceiveLoopEnded(_logger, LocalEndPoint.ToString(), exception.Message);
                Fail(exception);
            }
        }
    }

    private void Tick()
    {
        var ice = _ice!;
        var remote = _remoteAddress!;
        if (ice.TryWriteDueCheck(_controlBuffer, out int length))
        {
            SendDatagram(_controlBuffer.AsSpan(0, length), remote);
        }

        if (!_dtlsStarted && ice.IsNominated)
        {
            _dtlsStarted = true;
            ClientLog.IceNominated(_logger, LocalEndPoint.ToString(), _remote!.Candidate.ToString());
            _dtls!.HandshakeAsync().ContinueWith(
                static (task, self) => ((WebRtcClient)self!).OnHandshakeCompleted(task),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        if (!_srtpReady)
        {
            return;
        }

        while (_keyframeRequests.TryDequeue(out uint mediaSsrc))
        {
            uint sender = _receivedBySsrc.TryGetValue(mediaSsrc, out var source) && source.Track is { } receiving ? receiving.Ssrc : SenderSsrc();
            if (RtcpPictureLossIndication.TryWrite(_controlBuffer, sender, mediaSsrc, out int pliLength))
            {
                SendRtcp(pliLength, remote);
            }
        }

        foreach (var stats in _receivedSnapshot)
        {
            if (stats.Nacks is { MissingCount: > 0 } nacks)
            {
                uint sender = stats.Track is { } receiving ? receiving.Ssrc : SenderSsrc();
                if (nacks.TryBuildNack(_controlBuffer, sender, stats.Ssrc, out int nackLength))
                {
                    SendRtcp(nackLength, remote);
                    Interlocked.Increment(ref _nacksSent);
                }
            }
        }

        while (_nackRequests.TryDequeue(out var nack))
        {
            uint sender = _receivedBySsrc.TryGetValue(nack.Ssrc, out var source) && source.Track is { } receiving ? receiving.Ssrc : SenderSsrc();
            if (RtcpGenericNack.TryWrite(_controlBuffer, sender, nack.Ssrc, [nack.SequenceNumber], out int nackLength))
            {
                SendRtcp(nackLength, remote);
            }
        }

        long nowTicks = _time.GetUtcNow().UtcTicks;
        if (nowTicks >= _nextReportTicks)
        {
            _nextReportTicks = nowTicks + _options.ReceiverReportInterval.Ticks;
            SendReceiverReport(remote);
        }

        if (nowTicks >= _nextFeedbackTicks && _transportFeedback.HasPending)
        {
            _nextFeedbackTicks = nowTicks + _options.TransportFeedbackInterval.Ticks;
            SendTransportFeedback(remote);
        }
    }

    private void OnHandshakeCompleted(Task<DtlsSrtpKeys> task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            Exception error = task.Exception?.InnerException ?? new OperationCanceledException("The DTLS handshake was cancelled.");
            ClientLog.ConnectFailed(_logger, LocalEndPoint.ToString(), error.Message);
            Fail(error);
            return;
        }

        var keys = task.Result;
        var profile = (SrtpProfile)keys.ProtectionProfile;
        _sendRtp = new SrtpSession(profile, keys.LocalMasterKey, keys.LocalMasterSalt);
        _sendRtcp = new SrtpSession(profile, keys.LocalMasterKey, keys.LocalMasterSalt);
        _receiveSrtp = new SrtpSession(profile, keys.RemoteMasterKey, keys.RemoteMasterSalt);
        SrtpProfile = profile;
        _srtpReady = true;
        if (_state == WebRtcClientState.Connecting)
        {
            _state = WebRtcClientState.Connected;
        }

        ClientLog.SrtpReady(_logger, LocalEndPoint.ToString(), _remote!.LocalDtlsRole, keys.ProtectionProfile);
        _connected.TrySetResult();
    }

    private void Fail(Exception error)
    {
        if (_state is WebRtcClientState.Connecting or WebRtcClientState.New)
        {
            _state = WebRtcClientState.Failed;
        }

        _connected.TrySetException(error);
    }

    private void OnDatagram(Span<byte> datagram)
    {
        switch (PacketClassifier.Classify(datagram))
        {
            case PacketKind.Stun:
                OnStun(datagram);
                break;
            case PacketKind.Dtls:
                if (_receiveAddress.Equals(_remoteAddress))
                {
                    _dtls!.OnDatagram(datagram);
                }

                break;
            case PacketKind.Rtp:
                if (_srtpReady && _receiveAddress.Equals(_remoteAddress))
                {
                    OnRtp(datagram);
                }

                break;
            case PacketKind.Rtcp:
                if (_srtpReady && _receiveAddress.Equals(_remoteAddress))
                {
                    OnRtcp(datagram);
                }

                break;
        }
    }

    private void OnStun(Span<byte> datagram)
    {
        Interlocked.Increment(ref _stunReceived);
        // Requests have the class bits 0; answers to our checks are responses.
        bool isRequest = (datagram[0] & 0x01) == 0 && (datagram[1] & 0x10) == 0;
        if (!isRequest)
        {
            _ice!.ProcessResponse(datagram);
            return;
        }

        int length = _responder!.TryAnswer(datagram, _receiveAddress, _controlBuffer);
        if (length > 0)
        {
            SendDatagram(_controlBuffer.AsSpan(0, length), _receiveAddress);
        }
    }

    private void OnRtp(Span<byte> datagram)
    {
        if (_options.HeaderOnlyReceive)
        {
            OnRtpHeader(datagram);
            return;
        }

        if (_receiveSrtp!.UnprotectRtp(datagram, datagram.Length, out int plainLength) != SrtpResult.Ok)
        {
            Interlocked.Increment(ref _undecryptable);
            return;
        }

        var plain = datagram[..plainLength];
        if (!RtpPacket.TryParse(plain, out var packet))
        {
            return;
        }

        long arrivalMicros = (long)_time.GetElapsedTime(_startTimestamp).TotalMicroseconds;
        RecordTransportSequence(packet, arrivalMicros);
        uint ssrc = packet.Ssrc;
        if (!_receivedBySsrc.TryGetValue(ssrc, out var stats))
        {
            stats = AddReceivedStats(ssrc, packet.PayloadType);
        }

        if (packet.HasPadding && packet.Payload.Length == 0)
        {
            // The node probing the downlink: its sequence number is no gap, its packet no media.
            stats.OnPacket(packet.SequenceNumber, packet.Timestamp, 0, keyframe: false, arrivalMicros, padding: true);
            stats.Nacks?.OnPacket(packet.SequenceNumber);
            RtpReceived?.Invoke(stats, plain); // it holds its place in the sequence
            return;
        }

        if (stats.Nacks?.OnPacket(packet.SequenceNumber) == true)
        {
            RequestKeyframe(ssrc); // a gap too large to ask for packet by packet
        }

        bool keyframe = stats.Track is { Kind: ClientMediaKind.Video } && KeyframeDetector.IsVp8Keyframe(packet.Payload);
        stats.OnPacket(packet.SequenceNumber, packet.Timestamp, packet.Payload.Length, keyframe, arrivalMicros);
        RtpReceived?.Invoke(stats, plain);
    }

    /// <summary>
    /// <see cref="WebRtcClientOptions.HeaderOnlyReceive"/>: statistics from the clear RTP header alone. A packet with the
    /// padding bit is taken for the node's downlink probe (padding only): its sequence number counts as arrived, the
    /// packet not as media (the load generator's publishers never pad, and under SRTP the padding length is not
    /// readable without decrypting).
    /// </summary>
    private void OnRtpHeader(Span<byte> datagram)
    {
        if (!RtpPacket.TryParse(datagram, out var packet))
        {
            return;
        }

        long arrivalMicros = (long)_time.GetElapsedTime(_startTimestamp).TotalMicroseconds;
        RecordTransportSequence(packet, arrivalMicros);
        uint ssrc = packet.Ssrc;
        if (!_receivedBySsrc.TryGetValue(ssrc, out var stats))
        {
            stats = AddReceivedStats(ssrc, packet.PayloadType);
        }

        int payloadLength = Math.Max(0, packet.Payload.Length - Webinar.Media.Srtp.SrtpProfiles.RtpOverhead(SrtpProfile));
        stats.OnPacket(packet.SequenceNumber, packet.Timestamp, payloadLength, keyframe: false, arrivalMicros, padding: packet.HasPadding);
    }

    /// <summary>Transport-wide sequence numbers (in the clear header) for the feedback a browser sends back.</summary>
    private void RecordTransportSequence(RtpPacket packet, long arrivalMicros)
    {
        byte id = _remote!.Extensions.TransportSequenceNumber;
        if (id != 0 && _options.TransportFeedbackInterval > TimeSpan.Zero && packet.TryGetTransportSequenceNumber(id, out ushort transportSequence))
        {
            _transportFeedback.OnPacket(transportSequence, arrivalMicros);
        }
    }

    private ReceivedStats AddReceivedStats(uint ssrc, byte payloadType)
    {
        ClientTrack? track = null;
        foreach (var candidate in _trackArray)
        {
            if (candidate.Receives && candidate.PayloadType == payloadType)
            {
                track = candidate;
                break;
            }
        }

        bool nacks = _options.SendNacks && !_options.HeaderOnlyReceive && track is { Kind: ClientMediaKind.Video };
        var stats = new ReceivedStats(ssrc, track) { Nacks = nacks ? new NackGenerator(_time) : null };
        _receivedBySsrc.Add(ssrc, stats);
        Volatile.Write(ref _receivedSnapshot, [.. _receivedSnapshot, stats]);
        return stats;
    }

    private void OnRtcp(Span<byte> datagram)
    {
        if (_receiveSrtp!.UnprotectRtcp(datagram, datagram.Length, out int plainLength) != SrtpResult.Ok)
        {
            Interlocked.Increment(ref _undecryptable);
            return;
        }

        Interlocked.Increment(ref _rtcpPacketsReceived);
        long arrivalMicros = (long)_time.GetElapsedTime(_startTimestamp).TotalMicroseconds;
        var listener = new RtcpListener(this, arrivalMicros);
        RtcpDispatcher.Dispatch(datagram[..plainLength], ref listener);
    }

    /// <summary>What the client does with each RTCP message it receives (<see cref="RtcpDispatcher"/> reads them).</summary>
    private readonly struct RtcpListener(WebRtcClient client, long arrivalMicros) : IRtcpListener
    {
        public void OnSenderReport(in RtcpSenderReport report)
        {
            if (client._receivedBySsrc.TryGetValue(report.Ssrc, out var stats))
            {
                stats.Statistics.OnSenderReport(report.NtpTimestamp, arrivalMicros);
            }
        }

        public void OnGenericNack(in RtcpGenericNack nack)
        {
            int index = client.IndexOfSsrc(nack.MediaSsrc);
            if (index >= 0)
            {
                int count = nack.GetLostSequenceNumbers(client._nackScratch);
                for (int i = 0; i < count; i++)
                {
                    client._nacks.TryEnqueue(index, client._nackScratch[i]);
                }
            }
        }

        /// <summary>The client sends at its configured rates; it does not act on the node's congestion feedback.</summary>
        public void OnTransportFeedback(in RtcpTransportFeedback feedback)
        {
        }

        public void OnKeyframeRequest(uint mediaSsrc) => client.RequestLocalKeyframe(mediaSsrc);
    }

    private void RequestLocalKeyframe(uint ssrc)
    {
        int index = IndexOfSsrc(ssrc);
        if (index >= 0 && _trackArray[index].Kind == ClientMediaKind.Video)
        {
            var track = _trackArray[index];
            Interlocked.Increment(ref track._keyframeRequests);
            Volatile.Write(ref track.KeyframePending, 1);
        }
    }

    private void SendReceiverReport(SocketAddress remote)
    {
        var received = _receivedSnapshot;
        int blocks = Math.Min(received.Length, ReportBlock.MaxPerReport);
        long nowMicros = (long)_time.GetElapsedTime(_startTimestamp).TotalMicroseconds;
        for (int i = 0; i < blocks; i++)
        {
            _reportBlocks[i] = received[i].Statistics.CreateReportBlock(nowMicros);
        }

        uint sender = SenderSsrc();
        if (!RtcpReceiverReport.TryWrite(_controlBuffer, sender, _reportBlocks.AsSpan(0, blocks), out int reportLength)
            || !RtcpSourceDescriptionReader.TryWriteCname(_controlBuffer.AsSpan(reportLength, RtcpBufferSize - reportLength), sender, _cname, out int sdesLength))
        {
            return;
        }

        SendRtcp(reportLength + sdesLength, remote);
    }

    private void SendTransportFeedback(SocketAddress remote)
    {
        var received = _receivedSnapshot;
        uint mediaSsrc = received.Length > 0 ? received[0].Ssrc : 0;
        uint sender = SenderSsrc();
        while (_transportFeedback.TryBuildFeedback(_controlBuffer.AsSpan(0, RtcpBufferSize), sender, mediaSsrc, out int length))
        {
            SendRtcp(length, remote);
        }
    }

    private void SendRtcp(int length, SocketAddress remote)
    {
        if (_sendRtcp!.ProtectRtcp(_controlBuffer, length, out int protectedLength) == SrtpResult.Ok)
        {
            SendDatagram(_controlBuffer.AsSpan(0, protectedLength), remote);
        }
    }

    private void RetransmitRequested(SrtpSession send, SocketAddress remote)
    {
        while (_nacks.TryDequeue(out int index, out ushort sequenceNumber))
        {
            var track = _trackArray[index];
            if (!track.Cache.TryGet(sequenceNumber, out var cached))
            {
                continue;
            }

            int length;
            if (track.RtxPayloadType >= 0)
            {
                // RFC 4588 §4: on the RTX stream, its own sequence number, the OSN before the original payload.
                if (!RtxPacket.TryWrap(cached, _sendBuffer.AsSpan(0, _sendBuffer.Length - SrtpSession.MaxOverhead), (byte)track.RtxPayloadType,
                        track.RtxSequenceNumber++, track.RtxSsrc, out length))
                {
                    continue;
                }
            }
            else
            {
                cached.CopyTo(_sendBuffer);
                length = cached.Length;
            }

            byte twccId = _remote!.Extensions.TransportSequenceNumber;
            if (twccId != 0 && RtpPacket.TryParse(_sendBuffer.AsSpan(0, length), out var packet))
            {
                packet.TrySetTransportSequenceNumber(twccId, _transportSequenceNumber++);
            }

            if (send.ProtectRtp(_sendBuffer, length, out int protectedLength) == SrtpResult.Ok)
            {
                SendDatagram(_sendBuffer.AsSpan(0, protectedLength), remote);
                Interlocked.Increment(ref track._packetsRetransmitted);
            }
        }
    }

    private void SendDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, remote);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // UDP: a refused or failed send is a lost packet; the receive loop notices a closed socket.
        }
    }

    private uint SenderSsrc()
    {
        foreach (var track in _trackArray)
        {
            if (track.Sends)
            {
                return track.Ssrc;
            }
        }

        return _rtcpSsrc;
    }

    private int IndexOf(ClientTrack track)
    {
        for (int i = 0; i < _trackArray.Length; i++)
        {
            if (ReferenceEquals(_trackArray[i], track))
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOfSsrc(uint ssrc)
    {
        for (int i = 0; i < _trackArray.Length; i++)
        {
            if (_trackArray[i].Ssrc == ssrc)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>DTLS output: straight to the remote candidate.</summary>
    private sealed class DatagramSender(WebRtcClient owner) : IDatagramSender
    {
        public void Send(ReadOnlySpan<byte> datagram)
        {
            if (owner._remoteAddress is { } remote)
            {
                owner.SendDatagram(datagram, remote);
            }
        }
    }
}
