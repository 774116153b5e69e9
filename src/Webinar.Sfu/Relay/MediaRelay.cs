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
/// The relay's state, composed of one part per rule: <see cref="RelayLinks"/> (one link per pair of nodes and its
/// set-up), <see cref="HostedPrimaries"/> (the primary's node: subscriptions, presence out, streams promoted in),
/// <see cref="RemotePrimaries"/> (the replica's node: proxy routers fed over the link), <see cref="RelayPromotions"/>
/// (admission of promotions across nodes) and <see cref="RelayStreamMapping"/> (a stream on the wire). It is what the
/// media plane (<see cref="IRelayHooks"/>) and the rooms (<see cref="IPrimaryPresenceObserver"/>) tell the relay, so it
/// depends on neither: <see cref="RelayService"/>, which does depend on both, hands them in where a bus message or the
/// reconcile pass needs them. Media state is touched on the media loop only (through <see cref="MediaLoop.InvokeAsync{T}"/>);
/// bus traffic leaves through one outgoing queue.
/// </summary>
internal sealed class MediaRelay : IRelayHooks, IPrimaryPresenceObserver, IRelayLinkListener
{
    private readonly MediaWorker _worker;
    private readonly IBus _bus;
    private readonly ILogger<MediaRelay> _logger;
    private readonly string _nodeId;
    private readonly RelayOutbox _outbox;
    private readonly RelayLinks _links;
    private readonly HostedPrimaries _primaries;
    private readonly RemotePrimaries _remotes;
    private readonly RelayPromotions _promotions;
    private readonly RelayOptions _relay;
    private readonly SemaphoreSlim _wake = new(0);

    public MediaRelay(MediaWorker worker, IBus bus, MeetingDirectory directory, RevokedAttendees revoked, IOptions<SfuOptions> options, IOptions<RelayOptions> relay,
        RelayKeySealer sealer, ILogger<MediaRelay> logger)
    {
        _worker = worker;
        _bus = bus;
        _logger = logger;
        _nodeId = options.Value.EffectiveNodeId;
        _relay = relay.Value;
        _outbox = new RelayOutbox(bus, worker.Time, _relay, logger);
        _links = new RelayLinks(worker, _nodeId, worker.RelayHost.ToString(), sealer, this, _relay, logger);
        _primaries = new HostedPrimaries(worker, directory, _links, _outbox, _nodeId);
        _remotes = new RemotePrimaries(_nodeId, _outbox, worker.Time, _relay, logger);
        _promotions = new RelayPromotions(bus, worker, _links, _remotes, _outbox, revoked, _nodeId, _relay);
    }

    private MediaLoop Loop => _worker.Loop;

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

    public void OnRemotePromotion(Guid primaryMeetingId, Guid attendeeId, string fromNodeId, bool admitted) =>
        _primaries.OnRemotePromotion(primaryMeetingId, attendeeId, fromNodeId, admitted);

    // ================= incoming requests and messages (bus threads) =================

    public Task<RelayLinkOpened> OnOpenLinkAsync(OpenRelayLink request) => _links.AcceptAsync(request);

    /// <summary>Answers a subscription with the primary's roster as the rooms show it; the plane opens the primary's router.</summary>
    public Task<PrimarySubscription> OnSubscribeAsync(SubscribePrimary request, IReadOnlyList<PresenceMember> roster, NodeMediaPlane plane) =>
        Loop.InvokeAsync(() => _primaries.Subscribe(request, roster, plane));

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

    /// <summary>Presence relayed from a primary's node; true when it came over the subscribed link (the rooms show it then).</summary>
    public Task<bool> OnPresenceChangedAsync(RelayPresenceChanged message) => Loop.InvokeAsync(() => _remotes.PresenceChanged(message));

    public Task OnPromotedStreamAsync(RelayPromotedStream message) => Loop.InvokeAsync(() => _primaries.PromotedStream(message));

    public void OnPromotionEnded(RelayPromotionEnded message, MeetingRooms rooms) => _promotions.OnEnded(message, rooms);

    public Task<PromotionAdmission> OnAdmitPromotionAsync(AdmitPromotion request, MeetingRooms rooms) => _promotions.AnswerAsync(request, rooms);

    // ================= background work (RelayService runs it) =================

    /// <summary>Sends the outgoing queue, and ends the promotions of every node whose link closed, until stopped.</summary>
    public Task RunAsync(MeetingRooms rooms, CancellationToken cancellationToken) =>
        Task.WhenAll(_outbox.RunAsync(cancellationToken), _promotions.ReleaseClosedLinksAsync(rooms, cancellationToken));

    /// <summary>Waits for a replica's primary to need a link, a link to close, or <see cref="RelayOptions.ReconcileInterval"/>.</summary>
    public Task<bool> WaitForWorkAsync(CancellationToken cancellationToken) => _wake.WaitAsync(_relay.ReconcileInterval, cancellationToken);

    /// <summary>
    /// The reconcile pass (replica side): re-opens links and re-subscribes every primary due it, so a node or broker
    /// restart heals without anyone rejoining; the presence each subscription answer carries goes to the rooms.
    /// </summary>
    public async Task ReconcileAsync(MeetingRooms rooms, CancellationToken cancellationToken)
    {
        var now = _worker.Time.GetUtcNow();
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
                    rooms.RelayPresence(primaryId, ToMember(attendee), joined);
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

    public static PresenceMember ToMember(RelayedAttendee attendee) => new(attendee.AttendeeId, attendee.ExternalUserId, Guid.Empty);
}
