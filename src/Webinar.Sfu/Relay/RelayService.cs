using System.Collections.Concurrent;
using System.Net;
using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Relay;
using Webinar.Contracts.Trust;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;
using SrtpProfile = Webinar.Media.Srtp.SrtpProfile;

namespace Webinar.Sfu.Relay;

/// <summary>
/// Relays primaries' media between nodes (issue 4). On a replica's node it opens one <see cref="RelayLink"/> per
/// primary node, subscribes to each primary its replicas need, and keeps the primary's streams and presence in a proxy
/// router that feeds the local replicas; a promoted attendee's streams go the other way. On a primary's node it answers
/// link and subscription requests and relays every stream of a subscribed primary once per link. The bus only sets
/// things up: media already flowing never waits for RabbitMQ, and a reconcile pass every few seconds re-opens links and
/// re-subscribes after a node or broker restart, so nobody has to rejoin.
/// Media state is touched on the media loop only (through <see cref="MediaLoop.InvokeAsync{T}"/>); bus traffic leaves
/// through one outgoing queue.
/// </summary>
internal sealed class RelayService : BackgroundService, IRelayHooks, IPrimaryPresenceObserver, IRelayLinkListener
{
    private const SrtpProfile LinkProfile = SrtpProfile.AeadAes128Gcm;
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    private static readonly RequestTimeout RequestTimeout = RequestTimeout.After(s: 3);

    private readonly NodeMediaPlane _plane;
    private readonly IBus _bus;
    private readonly IServiceProvider _services;
    private readonly MeetingDirectory _directory;
    private readonly ILogger<RelayService> _logger;
    private readonly string _nodeId;
    private readonly RelayKeySealer _sealer;

    internal string NodeId => _nodeId;
    private readonly string _mediaHost;
    private readonly RelayOutbox _outbox;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ConcurrentDictionary<string, Guid> _opening = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, (string NodeId, Guid LinkId)[]> _presenceTargets = new();

    // Media-loop state.
    private readonly Dictionary<string, RelayLink> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, RemotePrimary> _remotePrimaries = [];
    private readonly Dictionary<Guid, PrimaryRelay> _primaries = [];

    public RelayService(NodeMediaPlane plane, IBus bus, IServiceProvider services, MeetingDirectory directory,
        IOptions<SfuOptions> options, RelayKeySealer sealer, ILogger<RelayService> logger)
    {
        _sealer = sealer;
        _plane = plane;
        _bus = bus;
        _services = services;
        _directory = directory;
        _logger = logger;
        _nodeId = options.Value.EffectiveNodeId;
        _mediaHost = options.Value.AnnouncedIp;
        _outbox = new RelayOutbox(bus, plane.Node.Time, logger);
        plane.Relay = this;
    }

    private MediaLoop Loop => _plane.Node.Loop;

    private MeetingRooms Rooms => _services.GetRequiredService<MeetingRooms>();

    // ================= media plane hooks (loop thread) =================

    public void RemotePrimaryOpened(Router proxy, string primaryNodeId)
    {
        var remote = new RemotePrimary(this, proxy, primaryNodeId);
        _remotePrimaries[proxy.MeetingId] = remote;
        proxy.AddObserver(remote);
        _wake.Release();
    }

    public void RouterClosed(Router router)
    {
        if (_remotePrimaries.Remove(router.MeetingId, out var remote))
        {
            if (remote.Link is { IsClosed: false } link)
            {
                Enqueue(link.PeerNodeId, new UnsubscribePrimary(link.LinkId, _nodeId, router.MeetingId));
            }

            CloseUnusedLinks();
        }

        if (_primaries.Remove(router.MeetingId, out var primary))
        {
            _presenceTargets.TryRemove(router.MeetingId, out _);
            router.RemoveObserver(primary);
        }
    }

    public bool CanPublishInto(Router proxy) =>
        _remotePrimaries.TryGetValue(proxy.MeetingId, out var remote) && remote.Link is { IsClosed: false } && remote.Subscribed;

    public void PromotionEnded(Guid primaryMeetingId, ProducerOwner attendee)
    {
        if (_remotePrimaries.TryGetValue(primaryMeetingId, out var remote) && remote.Link is { IsClosed: false } link)
        {
            Enqueue(link.PeerNodeId, new RelayPromotionEnded(link.LinkId, _nodeId, primaryMeetingId,
                new RelayedAttendee(attendee.AttendeeId, attendee.ExternalUserId)));
        }
    }

    public void OnLinkClosed(RelayLink link, string reason, IReadOnlyList<Producer> producers)
    {
        Log.RelayLinkClosed(_logger, link.PeerNodeId, link.LinkId, reason);
        Rooms.ReleaseRemotePromotionsFrom(link.PeerNodeId);
        if (_links.TryGetValue(link.PeerNodeId, out var current) && current == link)
        {
            _links.Remove(link.PeerNodeId);
        }

        foreach (var remote in _remotePrimaries.Values)
        {
            if (remote.Link == link)
            {
                remote.Detach();
            }
        }

        foreach (var primary in _primaries.Values)
        {
            primary.Links.Remove(link);
            foreach (var (streamId, producer) in primary.Promoted.ToArray())
            {
                if (producer.Transport == link)
                {
                    primary.Promoted.Remove(streamId);
                    primary.Router.RemoveProducer(producer);
                }
            }

            UpdatePresenceTargets(primary);
        }

        _wake.Release();
    }

    // ================= presence (rooms lock held: never block) =================

    public void OnPresence(Guid primaryMeetingId, PresenceMember member, bool joined)
    {
        if (_presenceTargets.TryGetValue(primaryMeetingId, out var targets))
        {
            var attendee = new RelayedAttendee(member.AttendeeId, member.ExternalUserId);
            foreach (var (nodeId, linkId) in targets)
            {
                Enqueue(nodeId, new RelayPresenceChanged(linkId, primaryMeetingId, attendee, joined));
            }
        }
    }

    // ================= incoming requests and messages (bus threads) =================

    public async Task<RelayLinkOpened> OnOpenLinkAsync(OpenRelayLink request)
    {
        if (_opening.ContainsKey(request.FromNodeId) && string.CompareOrdinal(_nodeId, request.FromNodeId) < 0)
        {
            // Both asked at once: the node with the smaller id wins, so both end with the same link.
            return new RelayLinkOpened(request.LinkId, false, _nodeId, _mediaHost, _plane.Node.Port, null);
        }

        if (request.Keys.SrtpProfile != (ushort)LinkProfile || !IPAddress.TryParse(request.MediaHost, out var host) || request.MediaPort is <= 0 or > 65535)
        {
            return new RelayLinkOpened(request.LinkId, false, _nodeId, _mediaHost, _plane.Node.Port, null);
        }

        if (!TryOpenKeys(request.FromNodeId, request.Keys, out var inbound))
        {
            return new RelayLinkOpened(request.LinkId, false, _nodeId, _mediaHost, _plane.Node.Port, null);
        }

        var keys = RelayKeySet.Generate(LinkProfile);
        await Loop.InvokeAsync(() => InstallLink(request.LinkId, request.FromNodeId, new IPEndPoint(host, request.MediaPort), inbound, keys)).ConfigureAwait(false);
        _opening.TryRemove(request.FromNodeId, out _);
        return new RelayLinkOpened(request.LinkId, true, _nodeId, _mediaHost, _plane.Node.Port, _sealer.Seal(request.FromNodeId, (ushort)LinkProfile, keys.Key, keys.Salt));
    }

    public async Task<PrimarySubscription> OnSubscribeAsync(SubscribePrimary request)
    {
        var roster = Rooms.RosterOf(request.PrimaryMeetingId);
        return await Loop.InvokeAsync(() => Subscribe(request, roster)).ConfigureAwait(false);
    }

    public Task OnUnsubscribeAsync(UnsubscribePrimary message) => Loop.InvokeAsync(() =>
    {
        if (_primaries.TryGetValue(message.PrimaryMeetingId, out var primary))
        {
            primary.Links.RemoveWhere(l => l.LinkId == message.LinkId);
            UpdatePresenceTargets(primary);
        }

        return true;
    });

    public Task OnStreamAddedAsync(RelayStreamAdded message) => Loop.InvokeAsync(() =>
    {
        if (_remotePrimaries.TryGetValue(message.PrimaryMeetingId, out var remote) && remote.Link?.LinkId == message.LinkId)
        {
            remote.AddStream(message.Stream);
        }

        return true;
    });

    public Task OnStreamRemovedAsync(RelayStreamRemoved message) => Loop.InvokeAsync(() =>
    {
        if (_remotePrimaries.TryGetValue(message.PrimaryMeetingId, out var remote) && remote.Link?.LinkId == message.LinkId)
        {
            remote.RemoveStream(message.StreamId);
        }

        return true;
    });

    public async Task OnPresenceChangedAsync(RelayPresenceChanged message)
    {
        var accepted = await Loop.InvokeAsync(() =>
            _remotePrimaries.TryGetValue(message.PrimaryMeetingId, out var remote) && remote.Link?.LinkId == message.LinkId
            && remote.SetAttendee(message.Attendee, message.Joined)).ConfigureAwait(false);
        if (accepted)
        {
            Rooms.RelayPresence(message.PrimaryMeetingId, ToMember(message.Attendee), message.Joined);
        }
    }

    public Task OnPromotedStreamAsync(RelayPromotedStream message) => Loop.InvokeAsync(() =>
    {
        if (!_links.TryGetValue(message.FromNodeId, out var link) || link.LinkId != message.LinkId || link.IsClosed
            || !_primaries.TryGetValue(message.PrimaryMeetingId, out var primary))
        {
            return false;
        }

        if (message.Published)
        {
            if (!primary.Promoted.ContainsKey(message.Stream.StreamId) && TryCreateProducer(message.PrimaryMeetingId, message.Stream, link, out var producer))
            {
                primary.Promoted[message.Stream.StreamId] = producer;
                link.AddProducer(producer);
                primary.Router.AddProducer(producer);
            }
        }
        else if (primary.Promoted.Remove(message.Stream.StreamId, out var producer))
        {
            link.RemoveProducer(producer);
            primary.Router.RemoveProducer(producer);
        }

        return true;
    });

    public void OnPromotionEnded(RelayPromotionEnded message) =>
        Rooms.ReleaseRemotePromotion(message.PrimaryMeetingId, message.Attendee.AttendeeId);

    public async Task<PromotionAdmission> OnAdmitPromotionAsync(AdmitPromotion request)
    {
        var linked = await Loop.InvokeAsync(() =>
            _links.TryGetValue(request.FromNodeId, out var link) && link.LinkId == request.LinkId && !link.IsClosed).ConfigureAwait(false);
        if (!linked)
        {
            return new PromotionAdmission(false, "unknown-link");
        }

        return Rooms.AdmitRemotePromotion(request.PrimaryMeetingId, ToMember(request.Attendee), request.FromNodeId) switch
        {
            PromotionResult.Reserved => new PromotionAdmission(true, null),
            PromotionResult.MeetingFull => new PromotionAdmission(false, "meeting-full"),
            PromotionResult.AlreadyConnected => new PromotionAdmission(false, "already-connected"),
            _ => new PromotionAdmission(false, "not-placed-here"),
        };
    }

    public async Task<MediaOutcome> AdmitPromotionAsync(Guid primaryMeetingId, ProducerOwner attendee, CancellationToken cancellationToken)
    {
        var target = await Loop.InvokeAsync(() =>
            _remotePrimaries.TryGetValue(primaryMeetingId, out var remote) && remote.Subscribed && remote.Link is { IsClosed: false } link
                ? (link.PeerNodeId, link.LinkId)
                : (null!, Guid.Empty)).ConfigureAwait(false);
        if (target.PeerNodeId is null)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, "The relay to the primary's node is not up; try again shortly.");
        }

        try
        {
            var client = _bus.CreateRequestClient<AdmitPromotion>(NodeQueue(target.PeerNodeId), RequestTimeout);
            var response = await client.GetResponse<PromotionAdmission>(new AdmitPromotion(target.LinkId, _nodeId, primaryMeetingId,
                new RelayedAttendee(attendee.AttendeeId, attendee.ExternalUserId)), cancellationToken).ConfigureAwait(false);
            return response.Message switch
            {
                { Admitted: true } => MediaOutcome.Ok,
                { Reason: "meeting-full" } => new MediaOutcome(MediaRefusal.MeetingFull, "The primary meeting has reached its connection limit."),
                { Reason: "already-connected" } => new MediaOutcome(MediaRefusal.NotAllowed, "That primary attendee is already connected."),
                var refused => new MediaOutcome(MediaRefusal.Unavailable, $"The primary's node refused the promotion ({refused.Reason})."),
            };
        }
        catch (RequestTimeoutException)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, "The primary's node did not answer; try again shortly.");
        }
    }

    // ================= primary side (loop thread) =================

    private PrimarySubscription Subscribe(SubscribePrimary request, IReadOnlyList<PresenceMember> roster)
    {
        if (!_links.TryGetValue(request.FromNodeId, out var link) || link.LinkId != request.LinkId || link.IsClosed)
        {
            return Refused(request.PrimaryMeetingId, "unknown-link");
        }

        var placement = _directory.Find(request.PrimaryMeetingId);
        if (placement is null || placement.IsReplica || placement.NodeId != _nodeId)
        {
            return Refused(request.PrimaryMeetingId, "not-placed-here");
        }

        if (!_primaries.TryGetValue(request.PrimaryMeetingId, out var primary))
        {
            var router = _plane.GetOrCreateRouter(request.PrimaryMeetingId, null, null);
            primary = new PrimaryRelay(this, router);
            _primaries[request.PrimaryMeetingId] = primary;
            router.AddObserver(primary);
        }

        primary.Links.Add(link);
        UpdatePresenceTargets(primary);
        var streams = new List<RelayedStream>();
        foreach (var producer in primary.Router.OwnProducers)
        {
            if (producer.Transport != link && !producer.IsClosed)
            {
                streams.Add(ToRelayed(producer, EnsureRelayConsumer(link, producer).Ssrc));
            }
        }

        var attendees = new List<RelayedAttendee>(roster.Count);
        foreach (var member in roster)
        {
            attendees.Add(new RelayedAttendee(member.AttendeeId, member.ExternalUserId));
        }

        return new PrimarySubscription(request.PrimaryMeetingId, true, null, streams, attendees);
    }

    private static PrimarySubscription Refused(Guid primaryMeetingId, string reason) => new(primaryMeetingId, false, reason, [], []);

    private void UpdatePresenceTargets(PrimaryRelay primary)
    {
        var targets = new List<(string, Guid)>();
        foreach (var link in primary.Links)
        {
            targets.Add((link.PeerNodeId, link.LinkId));
        }

        _presenceTargets[primary.Router.MeetingId] = [.. targets];
    }

    /// <summary>The consumer that carries <paramref name="producer"/> over <paramref name="link"/>; one per stream and link.</summary>
    internal Consumer EnsureRelayConsumer(RelayLink link, Producer producer)
    {
        foreach (var existing in producer.Consumers)
        {
            if (existing.Transport == link)
            {
                return existing;
            }
        }

        var extensions = new Webinar.Media.Rtp.RtpExtensionIdMap();
        foreach (var (uri, id) in RelayedExtensions(producer))
        {
            extensions.Set(id, id);
        }

        var consumer = new Consumer(producer, link, "relay", NewSsrc(), (byte)producer.Codec.PayloadType, extensions, _plane.Node.Time, waitForKeyframe: false);
        link.AddConsumer(consumer);
        return consumer;
    }

    /// <summary>Extensions that keep their meaning across the link (not mid, not the publisher's transport-wide numbering).</summary>
    private static IEnumerable<KeyValuePair<string, byte>> RelayedExtensions(Producer producer)
    {
        foreach (var pair in producer.ExtensionIds)
        {
            if (pair.Key is not (Webinar.Media.Sdp.SdpAnswerBuilder.MidExtension or Webinar.Media.Sdp.SdpAnswerBuilder.TransportWideCcExtension))
            {
                yield return pair;
            }
        }
    }

    internal static RelayedStream ToRelayed(Producer producer, uint relaySsrc) => new(
        producer.StreamId,
        producer.Owner.AttendeeId,
        producer.Owner.ExternalUserId,
        producer.Kind == MediaKind.Audio ? "audio" : "video",
        relaySsrc,
        producer.Codec.Name,
        producer.Codec.PayloadType,
        producer.Codec.ClockRate,
        producer.Codec.Channels,
        producer.Codec.Fmtp,
        new Dictionary<string, byte>(RelayedExtensions(producer), StringComparer.Ordinal));

    internal bool TryCreateProducer(Guid meetingId, RelayedStream stream, RelayLink link, out Producer producer)
    {
        producer = null!;
        if (stream.Kind is not ("audio" or "video") || stream.ClockRate <= 0 || stream.PayloadType is < 0 or > 127)
        {
            return false;
        }

        var codec = new SourceCodec(stream.Codec, stream.PayloadType, stream.ClockRate, stream.Channels, stream.Fmtp);
        producer = new Producer(stream.StreamId, stream.Kind == "audio" ? MediaKind.Audio : MediaKind.Video, stream.RelaySsrc, codec,
            new ProducerOwner(meetingId, stream.AttendeeId, stream.ExternalUserId), link, _plane.Node.Time)
        {
            ExtensionIds = stream.ExtensionIds,
        };
        return true;
    }

    // ================= replica side: links and subscriptions =================

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sender = Task.Run(() => _outbox.RunAsync(stoppingToken), stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Log.RelayReconcileFailed(_logger, e);
            }

            try
            {
                await _wake.WaitAsync(ReconcileInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await sender.ConfigureAwait(false);
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var now = _plane.Node.Time.GetUtcNow();
        var due = await Loop.InvokeAsync(() =>
        {
            var list = new List<(Guid PrimaryId, string NodeId)>();
            foreach (var remote in _remotePrimaries.Values)
            {
                if (!remote.Subscribed || remote.Link is null || remote.Link.IsClosed || now - remote.SubscribedAt > RefreshInterval)
                {
                    list.Add((remote.Proxy.MeetingId, remote.PrimaryNodeId));
                }
            }

            return list;
        }).ConfigureAwait(false);

        foreach (var (primaryId, nodeId) in due)
        {
            try
            {
                var link = await EnsureLinkAsync(nodeId, cancellationToken).ConfigureAwait(false);
                if (link is null)
                {
                    continue;
                }

                var client = _bus.CreateRequestClient<SubscribePrimary>(NodeQueue(nodeId), RequestTimeout);
                var response = await client.GetResponse<PrimarySubscription>(new SubscribePrimary(link.LinkId, _nodeId, primaryId), cancellationToken).ConfigureAwait(false);
                var presence = await Loop.InvokeAsync(() => ApplySubscription(primaryId, link, response.Message, now)).ConfigureAwait(false);
                foreach (var (attendee, joined) in presence)
                {
                    Rooms.RelayPresence(primaryId, ToMember(attendee), joined);
                }
            }
            catch (RequestTimeoutException)
            {
                Log.RelayPeerUnreachable(_logger, nodeId, primaryId);
            }
            catch (RequestFaultException e)
            {
                Log.RelaySubscribeFailed(_logger, e, nodeId, primaryId);
            }
        }
    }

    private List<(RelayedAttendee Attendee, bool Joined)> ApplySubscription(Guid primaryId, RelayLink link, PrimarySubscription subscription, DateTimeOffset now)
    {
        var changes = new List<(RelayedAttendee, bool)>();
        if (!_remotePrimaries.TryGetValue(primaryId, out var remote) || link.IsClosed)
        {
            return changes;
        }

        if (!subscription.Accepted)
        {
            Log.RelaySubscriptionRefused(_logger, link.PeerNodeId, primaryId, subscription.Reason ?? "");
            if (subscription.Reason == "unknown-link")
            {
                link.Close("relay-peer-forgot-link");
            }

            return changes;
        }

        if (remote.Link != link)
        {
            remote.Detach();
            remote.Link = link;
        }

        remote.Subscribed = true;
        remote.SubscribedAt = now;
        remote.Reconcile(subscription.Streams);
        return remote.ReconcileAttendees(subscription.Attendees);
    }

    private async Task<RelayLink?> EnsureLinkAsync(string nodeId, CancellationToken cancellationToken)
    {
        var existing = await Loop.InvokeAsync(() => _links.TryGetValue(nodeId, out var l) && !l.IsClosed ? l : null).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        var linkId = Guid.NewGuid();
        _opening[nodeId] = linkId;
        try
        {
            var keys = RelayKeySet.Generate(LinkProfile);
            var client = _bus.CreateRequestClient<OpenRelayLink>(NodeQueue(nodeId), RequestTimeout);
            var response = await client.GetResponse<RelayLinkOpened>(
                new OpenRelayLink(linkId, _nodeId, _mediaHost, _plane.Node.Port, _sealer.Seal(nodeId, (ushort)LinkProfile, keys.Key, keys.Salt)),
                cancellationToken).ConfigureAwait(false);
            var opened = response.Message;
            if (!opened.Accepted || opened.Keys is null || !IPAddress.TryParse(opened.MediaHost, out var host) || !TryOpenKeys(nodeId, opened.Keys, out var inbound))
            {
                return null;
            }

            if (!_opening.TryGetValue(nodeId, out var stillOurs) || stillOurs != linkId)
            {
                // The peer's own request arrived meanwhile and installed the link: use that one.
                return await Loop.InvokeAsync(() => _links.GetValueOrDefault(nodeId)).ConfigureAwait(false);
            }

            return await Loop.InvokeAsync(() => InstallLink(linkId, nodeId, new IPEndPoint(host, opened.MediaPort), inbound, keys)).ConfigureAwait(false);
        }
        catch (RequestTimeoutException)
        {
            Log.RelayPeerUnreachable(_logger, nodeId, Guid.Empty);
            return null;
        }
        finally
        {
            _opening.TryRemove(new KeyValuePair<string, Guid>(nodeId, linkId));
        }
    }

    /// <summary>The keys <paramref name="fromNodeId"/> sealed to this node for the link's profile, or false.</summary>
    private bool TryOpenKeys(string fromNodeId, RelayKeys sealedKeys, out RelayKeySet keys)
    {
        keys = null!;
        if (sealedKeys.SrtpProfile != (ushort)LinkProfile
            || !_sealer.TryOpen(fromNodeId, sealedKeys, Webinar.Media.Srtp.SrtpProfiles.MasterKeyLength(LinkProfile), Webinar.Media.Srtp.SrtpProfiles.MasterSaltLength(LinkProfile), out var key, out var salt))
        {
            return false;
        }

        keys = new RelayKeySet(key, salt);
        return true;
    }

    private RelayLink InstallLink(Guid linkId, string nodeId, IPEndPoint peer, RelayKeySet inbound, RelayKeySet outbound)
    {
        if (_links.Remove(nodeId, out var old))
        {
            old.Close("relay-replaced");
        }

        var link = new RelayLink(_plane.Node, linkId, nodeId, peer, LinkProfile, inbound, outbound, this);
        _links[nodeId] = link;
        _plane.Node.Register(link, link.PeerAddress);
        Log.RelayLinkOpened(_logger, nodeId, linkId, peer.ToString());
        return link;
    }

    /// <summary>A link that carries no primary either way any more is torn down.</summary>
    private void CloseUnusedLinks()
    {
        foreach (var link in _links.Values.ToArray())
        {
            var used = false;
            foreach (var remote in _remotePrimaries.Values)
            {
                used |= remote.Link == link;
            }

            foreach (var primary in _primaries.Values)
            {
                used |= primary.Links.Contains(link);
            }

            if (!used)
            {
                link.Close("relay-unused");
            }
        }
    }

    internal void Enqueue(string nodeId, object message) => _outbox.Enqueue(nodeId, message);

    internal static Uri NodeQueue(string nodeId) => new($"queue:sfu-{nodeId}");

    private static uint NewSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    private static PresenceMember ToMember(RelayedAttendee attendee) => new(attendee.AttendeeId, attendee.ExternalUserId, Guid.Empty);
}
