using Webinar.Contracts.Relay;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Relay;

/// <summary>
/// Runs the relay (<see cref="MediaRelay"/>) against the rooms and the media plane: what other nodes send to this
/// node's queue (<see cref="RelayConsumer"/>), the outgoing queue, the ends of promotions whose link closed, and the
/// reconcile pass: every few seconds the replica's node re-opens links and re-subscribes, so a node or broker restart
/// heals without anyone rejoining, and media already flowing never waits for RabbitMQ. The media plane and the rooms
/// depend on <see cref="MediaRelay"/>, never on this type, so each is built once, by its constructor.
/// </summary>
internal sealed class RelayService(MediaRelay relay, NodeMediaPlane plane, MeetingRooms rooms, ILogger<RelayService> logger) : BackgroundService
{
    // ================= incoming requests and messages (bus threads) =================

    public Task<RelayLinkOpened> OnOpenLinkAsync(OpenRelayLink request) => relay.OnOpenLinkAsync(request);

    public Task<PrimarySubscription> OnSubscribeAsync(SubscribePrimary request) =>
        relay.OnSubscribeAsync(request, rooms.RosterOf(request.PrimaryMeetingId), plane);

    public Task OnUnsubscribeAsync(UnsubscribePrimary message) => relay.OnUnsubscribeAsync(message);

    public Task OnStreamAddedAsync(RelayStreamAdded message) => relay.OnStreamAddedAsync(message);

    public Task OnStreamRemovedAsync(RelayStreamRemoved message) => relay.OnStreamRemovedAsync(message);

    public async Task OnPresenceChangedAsync(RelayPresenceChanged message)
    {
        if (await relay.OnPresenceChangedAsync(message).ConfigureAwait(false))
        {
            rooms.RelayPresence(message.PrimaryMeetingId, MediaRelay.ToMember(message.Attendee), message.Joined);
        }
    }

    public Task OnPromotedStreamAsync(RelayPromotedStream message) => relay.OnPromotedStreamAsync(message);

    public void OnPromotionEnded(RelayPromotionEnded message) => relay.OnPromotionEnded(message, rooms);

    public Task<PromotionAdmission> OnAdmitPromotionAsync(AdmitPromotion request) => relay.OnAdmitPromotionAsync(request, rooms);

    // ================= the reconcile pass (replica side) =================

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var background = Task.Run(() => relay.RunAsync(rooms, stoppingToken), stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await relay.ReconcileAsync(rooms, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Log.RelayReconcileFailed(logger, e);
            }

            try
            {
                await relay.WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await background.ConfigureAwait(false);
    }
}
