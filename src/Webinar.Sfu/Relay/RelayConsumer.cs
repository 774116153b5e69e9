using MassTransit;
using Webinar.Contracts.Relay;

namespace Webinar.Sfu.Relay;

/// <summary>Relay messages sent to this node's queue by other nodes; <see cref="RelayService"/> does the work.</summary>
internal sealed class RelayConsumer(RelayService relay) :
    IConsumer<OpenRelayLink>,
    IConsumer<SubscribePrimary>,
    IConsumer<UnsubscribePrimary>,
    IConsumer<RelayStreamAdded>,
    IConsumer<RelayStreamRemoved>,
    IConsumer<RelayPresenceChanged>,
    IConsumer<RelayPromotedStream>,
    IConsumer<RelayPromotionEnded>,
    IConsumer<AdmitPromotion>
{
    public async Task Consume(ConsumeContext<AdmitPromotion> context) =>
        await context.RespondAsync(await relay.OnAdmitPromotionAsync(context.Message).ConfigureAwait(false)).ConfigureAwait(false);

    public async Task Consume(ConsumeContext<OpenRelayLink> context) =>
        await context.RespondAsync(await relay.OnOpenLinkAsync(context.Message).ConfigureAwait(false)).ConfigureAwait(false);

    public async Task Consume(ConsumeContext<SubscribePrimary> context) =>
        await context.RespondAsync(await relay.OnSubscribeAsync(context.Message).ConfigureAwait(false)).ConfigureAwait(false);

    public Task Consume(ConsumeContext<UnsubscribePrimary> context) => relay.OnUnsubscribeAsync(context.Message);

    public Task Consume(ConsumeContext<RelayStreamAdded> context) => relay.OnStreamAddedAsync(context.Message);

    public Task Consume(ConsumeContext<RelayStreamRemoved> context) => relay.OnStreamRemovedAsync(context.Message);

    public Task Consume(ConsumeContext<RelayPresenceChanged> context) => relay.OnPresenceChangedAsync(context.Message);

    public Task Consume(ConsumeContext<RelayPromotedStream> context) => relay.OnPromotedStreamAsync(context.Message);

    public Task Consume(ConsumeContext<RelayPromotionEnded> context)
    {
        relay.OnPromotionEnded(context.Message);
        return Task.CompletedTask;
    }
}
