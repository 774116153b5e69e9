using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Connector.Client;
using Webinar.Connector.Publishing;
using Webinar.Connector.Signaling;
using Webinar.Connector.Subscribing;

namespace Webinar.Connector.Sessions;

/// <summary>
/// A server-side participant of one meeting (primary or replica): the node's signalling (docs/signaling.md) and one
/// WebRTC peer connection (<see cref="WebRtcClient"/>). Subscribe to the events, then <see cref="ConnectAsync"/>.
/// Streams others publish are announced by <see cref="StreamAdded"/>; <see cref="Subscribe"/> decodes one.
/// <see cref="PublishAsync"/> sends your own audio and video (a replica attendee first <see cref="PromoteAsync"/>s).
/// Events are raised on the signalling thread (presence, streams) or the media threads; keep handlers short.
/// </summary>
public sealed class Session : IAsyncDisposable
{
    private readonly SessionSettings _settings;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private readonly ConcurrentDictionary<string, Attendee> _attendees = new();
    private readonly ConcurrentDictionary<string, RemoteStream> _streams = new();
    private readonly ConcurrentDictionary<string, Subscriber> _subscribers = new();
    private readonly CancellationTokenSource _closing = new();

    // The promoted/demoted state, changed in frame order: a demoted the node sends right after promoted (a primary on
    // another node refused the promotion) is read before PromoteAsync resumes, and must win.
    private readonly Lock _promotion = new();
    private long _demotions;
    private SignalingChannel? _signaling;
    private WebRtcClient? _client;
    private ClientTrack? _sendAudio;
    private ClientTrack? _sendVideo;
    private Publisher? _publisher;
    private volatile Dictionary<string, string> _slotStreams = [];
    private volatile Dictionary<string, Subscriber> _subscribersByMid = [];
    private int _disconnected;
    private int _disposed;

    public Session(SessionSettings? settings = null)
    {
        _settings = settings ?? SessionSettings.Default;
        _logger = _settings.LoggerFactory?.CreateLogger<Session>() ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The media transport (ICE and DTLS) is up: media flows both ways.</summary>
    public event EventHandler? Connected;

    /// <summary>The session ended (left, closed by the node, meeting ended, network). Raised once.</summary>
    public event EventHandler<DisconnectedEventArgs>? Disconnected;

    public event EventHandler<SessionErrorEventArgs>? Error;

    public event EventHandler<AttendeeEventArgs>? AttendeeJoined;

    public event EventHandler<AttendeeEventArgs>? AttendeeLeft;

    public event EventHandler<StreamEventArgs>? StreamAdded;

    public event EventHandler<StreamEventArgs>? StreamRemoved;

    /// <summary>Promoted into the primary (after <see cref="PromoteAsync"/>) or demoted (asked for, or by the node).</summary>
    public event EventHandler<PromotionEventArgs>? PromotionChanged;

    /// <summary>Who joined, set by <see cref="ConnectAsync"/>.</summary>
    public SessionInfo? Info { get; private set; }

    /// <summary>True while this connection may publish (a primary attendee with send capability, or a promoted replica attendee).</summary>
    public bool CanPublish { get; private set; }

    /// <summary>True while a replica connection is promoted.</summary>
    public bool IsPromoted { get; private set; }

    public bool IsConnected => _client?.State == WebRtcClientState.Connected && Volatile.Read(ref _disconnected) == 0;

    /// <summary>Presence now (never yourself).</summary>
    public IReadOnlyCollection<Attendee> Attendees => [.. _attendees.Values];

    /// <summary>Streams you can subscribe to now (never your own).</summary>
    public IReadOnlyCollection<RemoteStream> Streams => [.. _streams.Values];

    public Publisher? Publisher => _publisher;

    /// <summary>The peer connection underneath (statistics, tests).</summary>
    public WebRtcClient? Client => _client;

    /// <summary>
    /// Opens the signalling socket, joins with <paramref name="joinToken"/>, and negotiates media (receiving every
    /// stream of the meeting). Returns once joined and negotiated; <see cref="Connected"/> follows when ICE and DTLS
    /// finish. Throws <see cref="SignalingException"/> with the node's code when refused (<c>invalid-token</c>, ...).
    /// </summary>
    public async Task ConnectAsync(Uri signalingUrl, string joinToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signalingUrl);
        ArgumentException.ThrowIfNullOrEmpty(joinToken);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_signaling is not null)
        {
            throw new InvalidOperationException("This session is already connected; create a new Session to join again.");
        }

        if (signalingUrl.Scheme is not ("ws" or "wss"))
        {
            throw new ArgumentException($"The signalling URL must be ws:// or wss:// (got {signalingUrl.Scheme}://).", nameof(signalingUrl));
        }

        _signaling = await SignalingChannel.ConnectAsync(signalingUrl, cancellationToken).ConfigureAwait(false);
        _signaling.EventReceived = OnEvent;
        _signaling.Closed = reason => RaiseDisconnected(reason);
        var joined = await _signaling.RequestAsync("join", new JsonObject { ["token"] = joinToken }, _settings.RequestTimeout).ConfigureAwait(false);
        bool replica = joined.GetProperty("role").GetString() == "replica";
        Info = new SessionInfo(
            joined.GetProperty("meetingId").GetString()!,
            joined.GetProperty("attendeeId").GetString()!,
            joined.GetProperty("externalUserId").GetString() ?? "",
            replica,
            joined.TryGetProperty("primaryMeetingId", out var primary) && primary.ValueKind == JsonValueKind.String ? primary.GetString() : null);
        CanPublish = CanSend(joined);
        ConnectorLog.Joined(_logger, Info.MeetingId, Info.AttendeeId, replica ? "replica" : "primary");
        foreach (var attendee in joined.GetProperty("attendees").EnumerateArray())
        {
            var a = ReadAttendee(attendee);
            _attendees[a.AttendeeId] = a;
        }

        int audio = 0, video = 0;
        foreach (var stream in joined.GetProperty("streams").EnumerateArray())
        {
            var s = ReadStream(stream);
            _streams[s.StreamId] = s;
            _ = s.Kind == MediaKind.Audio ? audio++ : video++;
        }

        var local = _settings.LocalAddress ?? RouteTo(signalingUrl);
        _client = new WebRtcClient(new WebRtcClientOptions { LocalAddress = local }, logger: _settings.LoggerFactory?.CreateLogger<WebRtcClient>());
        _client.RtpReceived = OnRtp;
        EnsureReceiveSlots(Math.Max(audio, 1), Math.Max(video, 1));
        await NegotiateAsync().ConfigureAwait(false);
        _ = WatchMediaAsync(_client);
    }

    /// <summary>
    /// Starts publishing (validating <paramref name="settings"/> first): adds send m-lines, renegotiates, and returns
    /// the <see cref="Publishing.Publisher"/> to feed. One publisher per session.
    /// </summary>
    public async Task<Publisher> PublishAsync(PublisherSettings? settings = null)
    {
        settings ??= PublisherSettings.Default;
        settings.Validate();
        var client = RequireConnected();
        if (!CanPublish)
        {
            throw new InvalidOperationException(Info!.IsReplica
                ? "A replica attendee publishes only once promoted: call PromoteAsync with a primary attendee's token first."
                : "This attendee's token does not allow sending (its capabilities are receive-only).");
        }

        if (_publisher is not null)
        {
            throw new InvalidOperationException("This session already publishes; dispose its Publisher first.");
        }

        await _negotiation.WaitAsync().ConfigureAwait(false);
        try
        {
            if (settings.HasAudio)
            {
                _sendAudio ??= client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
                _sendAudio.OfferedDirection = ClientTrackDirection.SendOnly;
            }

            if (settings.HasVideo)
            {
                _sendVideo ??= client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
                _sendVideo.OfferedDirection = ClientTrackDirection.SendOnly;
            }
        }
        finally
        {
            _negotiation.Release();
        }

        await NegotiateAsync().ConfigureAwait(false);
        _publisher = new Publisher(client, settings.HasAudio ? _sendAudio : null, settings.HasVideo ? _sendVideo : null, settings, StopPublishingAsync);
        return _publisher;
    }

    /// <summary>
    /// Starts decoding one remote stream (validating <paramref name="settings"/> first). Handlers go on the returned
    /// subscriber before media arrives only if you attach them right away; dispose it to unsubscribe.
    /// </summary>
    public Subscriber Subscribe(RemoteStream stream, SubscriberSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        settings ??= SubscriberSettings.Default;
        settings.Validate();
        var client = RequireConnected();
        if (!_streams.ContainsKey(stream.StreamId))
        {
            throw new ArgumentException($"Stream {stream.StreamId} is not in the session (it was removed, or never announced).", nameof(stream));
        }

        var subscriber = new Subscriber(stream, settings, client.RequestKeyframe, Unsubscribe);
        if (!_subscribers.TryAdd(stream.StreamId, subscriber))
        {
            throw new InvalidOperationException($"Stream {stream.StreamId} is already subscribed; dispose that subscriber first.");
        }

        RebuildRoutes();
        return subscriber;
    }

    /// <summary>
    /// Promotes this replica connection into the primary with a primary attendee's join token (docs/signaling.md):
    /// presenters then see that attendee; call <see cref="PublishAsync"/> to be heard and seen. A primary on another node
    /// admits the promotion after the node has answered <c>promoted</c>; when it refuses (the primary is full), the node
    /// undoes it with <c>demoted</c> (reason <c>primary-full</c>, …): <see cref="PromotionChanged"/> reports it, and
    /// <see cref="IsPromoted"/> is false again even if that came before this method returned.
    /// </summary>
    public async Task PromoteAsync(string primaryJoinToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(primaryJoinToken);
        RequireConnected();
        var demotions = Interlocked.Read(ref _demotions);
        var promoted = await _signaling!.RequestAsync("promote", new JsonObject { ["token"] = primaryJoinToken }, _settings.RequestTimeout).ConfigureAwait(false);
        lock (_promotion)
        {
            if (_demotions != demotions)
            {
                // Already undone (PromotionChanged reported the demotion and its reason): nothing to publish.
                return;
            }

            CanPublish = CanSend(promoted);
            IsPromoted = true;
        }

        PromotionChanged?.Invoke(this, new PromotionEventArgs(true, null));
    }

    /// <summary>Demotes a promoted connection: stops the publisher (if any) and re-offers without sending.</summary>
    public async Task DemoteAsync()
    {
        RequireConnected();
        await _signaling!.RequestAsync("demote", null, _settings.RequestTimeout).ConfigureAwait(false);
        await AfterDemotionAsync("requested").ConfigureAwait(false);
    }

    /// <summary>Leaves: stops publishing and subscriptions, sends <c>leave</c>, closes the socket and the peer connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        if (_publisher is { } publisher)
        {
            await publisher.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var subscriber in _subscribers.Values)
        {
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }

        if (_signaling is { } signaling)
        {
            signaling.EventReceived = null;
            await signaling.DisposeAsync().ConfigureAwait(false);
        }

        _client?.Dispose();
        RaiseDisconnected("left");
        _closing.Dispose();
        _negotiation.Dispose();
    }

    private WebRtcClient RequireConnected()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_client is null || Volatile.Read(ref _disconnected) != 0)
        {
            throw new InvalidOperationException(_client is null ? "Connect the session first (ConnectAsync)." : "The session has ended.");
        }

        return _client;
    }

    private async ValueTask StopPublishingAsync(Publisher publisher)
    {
        if (!ReferenceEquals(Interlocked.CompareExchange(ref _publisher, null, publisher), publisher) || _disposed != 0 || _disconnected != 0)
        {
            return;
        }

        await _negotiation.WaitAsync().ConfigureAwait(false);
        try
        {
            _sendAudio?.OfferedDirection = ClientTrackDirection.Inactive;
            _sendVideo?.OfferedDirection = ClientTrackDirection.Inactive;
        }
        finally
        {
            _negotiation.Release();
        }

        await NegotiateAsync().ConfigureAwait(false);
    }

    private async Task AfterDemotionAsync(string reason)
    {
        lock (_promotion)
        {
            _demotions++;
            CanPublish = Info is { IsReplica: false };
            IsPromoted = false;
        }

        if (_publisher is { } publisher)
        {
            await publisher.DisposeAsync().ConfigureAwait(false);
        }

        PromotionChanged?.Invoke(this, new PromotionEventArgs(false, reason));
    }

    private async Task NegotiateAsync()
    {
        var client = _client!;
        await _negotiation.WaitAsync().ConfigureAwait(false);
        try
        {
            var answer = await _signaling!.RequestAsync("offer", new JsonObject { ["sdp"] = client.CreateOffer() }, _settings.RequestTimeout).ConfigureAwait(false);
            if (!client.TryApplyAnswer(answer.GetProperty("sdp").GetString()!, out string error))
            {
                throw new SignalingException("bad-answer", "The node's answer is unusable: " + error);
            }

            var slots = new Dictionary<string, string>();
            foreach (var slot in answer.GetProperty("slots").EnumerateArray())
            {
                slots[slot.GetProperty("mid").GetString()!] = slot.GetProperty("streamId").GetString()!;
                var stream = ReadStream(slot);
                _streams.TryAdd(stream.StreamId, stream);
            }

            _slotStreams = slots;
            RebuildRoutes();
        }
        finally
        {
            _negotiation.Release();
        }
    }

    private void RebuildRoutes()
    {
        var routes = new Dictionary<string, Subscriber>();
        foreach (var (mid, streamId) in _slotStreams)
        {
            if (_subscribers.TryGetValue(streamId, out var subscriber))
            {
                routes[mid] = subscriber;
            }
        }

        _subscribersByMid = routes;
    }

    private void Unsubscribe(Subscriber subscriber)
    {
        _subscribers.TryRemove(new KeyValuePair<string, Subscriber>(subscriber.Stream.StreamId, subscriber));
        RebuildRoutes();
    }

    /// <summary>Receive thread: hands each packet to the subscriber of the stream its m-line carries now.</summary>
    private void OnRtp(ReceivedStats source, ReadOnlySpan<byte> rtpPacket)
    {
        if (source.Track is { } track && _subscribersByMid.TryGetValue(track.Mid, out var subscriber))
        {
            subscriber.Enqueue(rtpPacket);
        }
    }

    private async Task WatchMediaAsync(WebRtcClient client)
    {
        try
        {
            await client.ConnectedAsync(_settings.MediaConnectTimeout).ConfigureAwait(false);
            Connected?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception e) when (_disposed == 0)
        {
            ConnectorLog.MediaFailed(_logger, e.Message);
            Error?.Invoke(this, new SessionErrorEventArgs("media-failed", "The media transport did not connect: " + e.Message));
        }
        catch (Exception)
        {
            // Disposed while connecting.
        }
    }

    private void OnEvent(string type, JsonElement frame)
    {
        try
        {
            Dispatch(type, frame);
        }
        catch (Exception e) when (type != "error")
        {
            // A handler threw (or the frame was not what the protocol says): the session carries on.
            Error?.Invoke(this, new SessionErrorEventArgs("event-failed", $"Handling '{type}' failed: {e.Message}"));
        }
    }

    private void Dispatch(string type, JsonElement frame)
    {
        switch (type)
        {
            case "attendee-joined":
                {
                    var attendee = ReadAttendee(frame);
                    _attendees[attendee.AttendeeId] = attendee;
                    AttendeeJoined?.Invoke(this, new AttendeeEventArgs(attendee));
                    break;
                }

            case "attendee-left":
                {
                    var attendee = ReadAttendee(frame);
                    _attendees.TryRemove(attendee.AttendeeId, out _);
                    AttendeeLeft?.Invoke(this, new AttendeeEventArgs(attendee));
                    break;
                }

            case "stream-added":
                {
                    var stream = ReadStream(frame);
                    if (_streams.TryAdd(stream.StreamId, stream))
                    {
                        StreamAdded?.Invoke(this, new StreamEventArgs(stream));
                    }

                    break;
                }

            case "stream-removed":
                {
                    var stream = ReadStream(frame);
                    if (_streams.TryRemove(stream.StreamId, out var known))
                    {
                        StreamRemoved?.Invoke(this, new StreamEventArgs(known));
                    }

                    break;
                }

            case "renegotiate":
                _ = RenegotiateAsync(frame.GetProperty("audio").GetInt32(), frame.GetProperty("video").GetInt32());
                break;

            case "demoted":
                _ = AfterDemotionAsync(frame.TryGetProperty("reason", out var reason) ? reason.GetString() ?? "" : "");
                break;

            case "error":
                var error = SignalingException.FromFrame(frame);
                Error?.Invoke(this, new SessionErrorEventArgs(error.Code, error.Message));
                break;

            case "meeting-ended" or "disconnected":
                RaiseDisconnected(frame.TryGetProperty("reason", out var why) ? why.GetString() ?? type : type);
                break;
        }
    }

    private async Task RenegotiateAsync(int audio, int video)
    {
        try
        {
            await _negotiation.WaitAsync(_closing.Token).ConfigureAwait(false);
            try
            {
                EnsureReceiveSlots(audio, video);
            }
            finally
            {
                _negotiation.Release();
            }

            await NegotiateAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (_disposed == 0 && _disconnected == 0)
        {
            ConnectorLog.RenegotiationFailed(_logger, e.Message);
            Error?.Invoke(this, new SessionErrorEventArgs("renegotiation-failed", e.Message));
        }
        catch (Exception)
        {
            // Closing.
        }
    }

    private void EnsureReceiveSlots(int audio, int video)
    {
        int haveAudio = 0, haveVideo = 0;
        foreach (var track in _client!.Tracks)
        {
            if (track.OfferedDirection == ClientTrackDirection.RecvOnly)
            {
                _ = track.Kind == ClientMediaKind.Audio ? haveAudio++ : haveVideo++;
            }
        }

        for (; haveAudio < audio; haveAudio++)
        {
            _client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        }

        for (; haveVideo < video; haveVideo++)
        {
            _client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        }
    }

    private void RaiseDisconnected(string reason)
    {
        if (Interlocked.Exchange(ref _disconnected, 1) != 0)
        {
            return;
        }

        ConnectorLog.Disconnected(_logger, reason);
        Disconnected?.Invoke(this, new DisconnectedEventArgs(reason));
    }

    private static bool CanSend(JsonElement frame) =>
        frame.TryGetProperty("canPublish", out var can)
        && ((can.TryGetProperty("audio", out var a) && a.GetBoolean()) || (can.TryGetProperty("video", out var v) && v.GetBoolean()));

    private static Attendee ReadAttendee(JsonElement frame) =>
        new(frame.GetProperty("attendeeId").GetString()!, frame.TryGetProperty("externalUserId", out var user) ? user.GetString() ?? "" : "");

    private static RemoteStream ReadStream(JsonElement frame) =>
        new(frame.GetProperty("streamId").GetString()!, ReadAttendee(frame), frame.GetProperty("kind").GetString() == "audio" ? MediaKind.Audio : MediaKind.Video);

    /// <summary>The local address the system would send from toward the signalling host (no packet is sent).</summary>
    private static IPAddress RouteTo(Uri signalingUrl)
    {
        var host = signalingUrl.DnsSafeHost;
        var address = IPAddress.TryParse(host, out var parsed) ? parsed : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        using var probe = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(new IPEndPoint(address, 9));
        return ((IPEndPoint)probe.LocalEndPoint!).Address;
    }
}
