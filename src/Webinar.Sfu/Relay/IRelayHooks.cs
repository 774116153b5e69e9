using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Relay;

/// <summary>What the media plane tells the relay (loop thread). Implemented by <see cref="MediaRelay"/>.</summary>
internal interface IRelayHooks
{
    /// <summary>A replica here needs a primary hosted on <paramref name="primaryNodeId"/>: subscribe to its streams.</summary>
    void RemotePrimaryOpened(Router proxy, string primaryNodeId);

    /// <summary>A router closed (a meeting ended here, or a remote primary has no replica here any more).</summary>
    void RouterClosed(Router router);

    /// <summary>Whether a promoted attendee here can publish into <paramref name="proxy"/>'s primary now (its link is up).</summary>
    bool CanPublishInto(Router proxy);

    /// <summary>
    /// Asks the primary's node to admit a promotion into its primary (its connection limit counts the attendee).
    /// Any thread; the only hook that waits on the bus.
    /// </summary>
    Task<MediaOutcome> AdmitPromotionAsync(Guid primaryMeetingId, ProducerOwner attendee, CancellationToken cancellationToken);

    /// <summary>
    /// A promotion admitted by <see cref="AdmitPromotionAsync"/> ended (demoted, disconnected, or refused by the media
    /// afterwards): the primary's node frees the place and takes the attendee out of the primary's presence.
    /// </summary>
    void PromotionEnded(Guid primaryMeetingId, ProducerOwner attendee);
}
