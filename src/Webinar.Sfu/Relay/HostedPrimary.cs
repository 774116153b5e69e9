using Webinar.Contracts.Relay;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Relay;

/// <summary>
/// Primary's node: who subscribed to one primary here, and the streams promoted attendees elsewhere publish into it.
/// Each stream of the primary goes once per link, whatever the audience on the far node.
/// </summary>
internal sealed class HostedPrimary(Router router, RelayOutbox outbox, TimeProvider time) : IRouterObserver
{
    public Router Router { get; } = router;

    public HashSet<RelayLink> Links { get; } = [];

    public Dictionary<string, Producer> Promoted { get; } = new(StringComparer.Ordinal);

    public void OnStreamAdded(Producer producer)
    {
        foreach (var link in Links)
        {
            if (!link.IsClosed && producer.Transport != link)
            {
                var consumer = RelayStreamMapping.EnsureConsumer(link, producer, time);
                outbox.Enqueue(link.PeerNodeId, new RelayStreamAdded(link.LinkId, Router.MeetingId, RelayStreamMapping.ToRelayed(producer, consumer)));
            }
        }
    }

    public void OnStreamRemoved(Producer producer)
    {
        foreach (var link in Links)
        {
            if (!link.IsClosed && producer.Transport != link)
            {
                outbox.Enqueue(link.PeerNodeId, new RelayStreamRemoved(link.LinkId, Router.MeetingId, producer.StreamId));
            }
        }
    }
}
