using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Relay;
using Webinar.Contracts.Trust;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Relay;

/// <summary>
/// Relays primaries' media between nodes, composed of one part per rule: <see cref="RelayLinks"/>
/// (one link per pair of nodes and its set-up), <see cref="HostedPrimaries"/> (the primary's node: subscriptions,
/// presence out, streams promoted in), <see cref="RemotePrimaries"/> (the replica's node: proxy routers fed over the
/// link), <see cref="RelayPromotions"/> (admission of promotions across nodes) and <see cref="RelayStreamMapping"/> (a
/// stream on the wire). This type wires them to the media plane, the rooms and the bus, and runs the reconcile pass:
/// every few seconds the replica's node re-opens links and re-subscribes, so a node or broker restart heals without
/// anyone rejoining, and media already flowing never waits for RabbitMQ. Media state is touched on the media loop only
/// (through <see cref="MediaLoop.InvokeAsync{T}"/>); bus traffic leaves through one outgoing queue.
/// </summary>
internal sealed class RelayService : BackgroundService, IRelayHooks, IPrimaryPresenceObserver, IRelayLinkListener
{
    private readonly NodeMediaPlane _plane;
    private readonly IBus _bus;
    private readonly IServiceProvider _services;
    private readonly ILogger<RelayService> _logger;
    private readonly string _nodeId;
    private readonly RelayOutbox _outbox;
    private readonly RelayLinks _links;
    private readonly HostedPrimaries _primaries;
    private readonly RemotePrimaries _remotes;
    private readonly RelayPromotions _promotions;
    private readonly RelayOptions _relay;
    private readonly SemaphoreSlim _wake = new(0);

    public RelayService(NodeMediaPlane plane, IBus bus, IServiceProvider services, MeetingDirectory directory,
        IOptions<SfuOptions> options, IOptions<RelayOptions> relay, RelayKeySealer sealer, ILogger<RelayService> logger)
    {
        _plane = plane;
        _bus = bus;
        _services = services;
        _logger = logger;
        _nodeId = options.Value.EffectiveNodeId;
        _relay = relay.Value;
        _outbox = new RelayOutbox(bus, plane.Node.Time, _relay, logger);
        _links = new RelayLinks(plane.Node, _nodeId, plane.Node.RelayHost.ToString(), sealer, this, _relay, logger);
        _primaries = new HostedPrimaries(plane, directory, _links, _outbox, _nodeId);
        _remotes = new RemotePrimaries(_nodeId, _outbox, plane.Node.Time, _relay, logger);
        _promotions = new RelayPromotions(bus, plane.Node, _links, _remotes, _outbox, () => Rooms, _nodeId, _relay);
        plane.Relay = this;
    }

    private MediaLoop Loop => _plane.Node.Loop;

    private MeetingRooms Rooms => _services.GetRequiredService<MeetingRooms>();

    internal static Uri NodeQueue(string nodeId) => new($"queue:sfu-{nodeId}");

    // ================= media plane hooks (loop thread) =================

    public void RemotePrimaryOpened(Router proxy, string primaryNodeId)
    {
        _remotes.Opened(proxy, primaryNodeId);
        _wake.Release();
    }

    public void RouterClosed(Router router)
    {
        if (_remotes.Contains(router.MeetingId))
        {
            _remotes.Closed(router);
            _links.CloseUnused(link => _remotes.Uses(link) || _primaries.Uses(link));
        }

        _primaries.RouterClosed(router);
    }

    public bool CanPublishInto(Router proxy) => _remotes.CanPublishInto(proxy);

    public Task<MediaOutcome> AdmitPromotionAsync(Guid primaryMeetingId, ProducerOwner attendee, CancellationToken cancellationToken) =>
        _promotions.AskAsync(primaryMeetingId, attendee, cancellationToken);

    public void PromotionEnded(Guid primaryMeetingId, ProducerOwner attendee) => _promotions.Ended(primaryMeetingId, attendee);

    public void OnLinkClosed(RelayLink link, string reason)
    {
        Log.RelayLinkClosed(_logger, link.PeerNodeId, link.LinkId, reason);
        _promotions.LinkClosed(link);
        _links.Forget(link);
        _remotes.LinkClosed(link);
        _primaries.LinkClosed(link);
        _wake.Release();
    }

    // ================= presence (rooms lock held: never block) =================

    public void OnPresence(Guid primaryMeetingId, PresenceMember member, bool joined) => _primaries.OnPresence(primaryMeetingId, member, joined);

    // ================= incoming requests and messages (bus threads) =================

    public Task<RelayLinkOpened> OnOpenLinkAsync(OpenRelayLink request) => _links.AcceptAsync(request);

    public async Task<PrimarySubscription> OnSubscribeAsync(SubscribePrimary request)
    {
        var roster = Rooms.RosterOf(request.PrimaryMeetingId);
        return await Loop.InvokeAsync(() => _primaries.Subscribe(request, roster)).ConfigureAwait(false);
    }

    public Task OnUnsubscribeAsync(UnsubscribePrimary message) => Loop.InvokeAsync(() =>
    {
        _primaries.Unsubscribe(message);
        return true;
    });

    public Task OnStreamAddedAsync(RelayStreamAdded message) => Loop.InvokeAsync(() =>
    {
        _remotes.StreamAdded(message);
        return true;
    });

    public Task OnStreamRemovedAsync(RelayStreamRemoved message) => Loop.InvokeAsync(() =>
    {
        _remotes.StreamRemoved(message);
        return true;
    });

    public async Task OnPresenceChangedAsync(RelayPresenceChanged message)
    {
        if (await Loop.InvokeAsync(() => _remotes.PresenceChanged(message)).ConfigureAwait(false))
        {
            Rooms.RelayPresence(message.PrimaryMeetingId, ToMember(message.Attendee), message.Joined);
        }
    }

    public Task OnPromotedStreamAsync(RelayPromotedStream message) => Loop.InvokeAsync(() => _primaries.PromotedStream(message));

    public void OnPromotionEnded(RelayPromotionEnded message) => _promotions.OnEnded(message);

    public Task<PromotionAdmission> OnAdmitPromotionAsync(AdmitPromotion request) => _promotions.AnswerAsync(request);

    // ================= the reconcile pass (replica side) =================

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
                await _wake.WaitAsync(_relay.ReconcileInterval, stoppingToken).ConfigureAwait(false);
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
        var due = await Loop.InvokeAsync(() => _remotes.Due(now)).ConfigureAwait(false);
        foreach (var (primaryId, nodeId) in due)
        {
            try
            {
                var link = await _links.EnsureAsync(_bus, nodeId, cancellationToken).ConfigureAwait(false);
                if (link is null)
                {
                    continue;
                }

                var client = _bus.CreateRequestClient<SubscribePrimary>(NodeQueue(nodeId), RequestTimeout.After(ms: (int)_relay.RequestTimeout.TotalMilliseconds));
                var response = await client.GetResponse<PrimarySubscription>(new SubscribePrimary(link.LinkId, _nodeId, primaryId), cancellationToken).ConfigureAwait(false);
                var presence = await Loop.InvokeAsync(() => _remotes.Apply(primaryId, link, response.Message, now)).ConfigureAwait(false);
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

    private static PresenceMember ToMember(RelayedAttendee attendee) => new(attendee.AttendeeId, attendee.ExternalUserId, Guid.Empty);
}
