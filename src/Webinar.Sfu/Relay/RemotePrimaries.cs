using Webinar.Contracts.Relay;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Relay;

/// <summary>
/// The replica's node side of the relay: each primary hosted elsewhere that local replicas need (<see cref="RemotePrimary"/>,
/// with its proxy router), which of them are due a (re-)subscription, and what the primary's node sends about them
/// (streams, presence), accepted only over the link they were subscribed on. Media-loop state.
/// </summary>
internal sealed class RemotePrimaries(string nodeId, RelayOutbox outbox, TimeProvider time, RelayOptions options, ILogger logger)
{
    private readonly Dictionary<Guid, RemotePrimary> _remotes = [];

    public void Opened(Router proxy, string primaryNodeId)
    {
        var remote = new RemotePrimary(proxy, primaryNodeId, nodeId, outbox, time);
        _remotes[proxy.MeetingId] = remote;
        proxy.AddObserver(remote);
    }

    /// <summary>The proxy router closed: the primary is no longer needed here. Returns the link it was subscribed on, if open.</summary>
    public RelayLink? Closed(Router router)
    {
        if (!_remotes.Remove(router.MeetingId, out var remote))
        {
            return null;
        }

        if (remote.Link is { IsClosed: false } link)
        {
            outbox.Enqueue(link.PeerNodeId, new UnsubscribePrimary(link.LinkId, nodeId, router.MeetingId));
            return link;
        }

        return null;
    }

    public bool Contains(Guid primaryMeetingId) => _remotes.ContainsKey(primaryMeetingId);

    /// <summary>A promoted attendee may publish into the proxy only while its primary is subscribed over an open link.</summary>
    public bool CanPublishInto(Router proxy) => LinkOf(proxy.MeetingId) is not null;

    /// <summary>The open link a primary is subscribed over, or null.</summary>
    public RelayLink? LinkOf(Guid primaryMeetingId) =>
        _remotes.TryGetValue(primaryMeetingId, out var remote) && remote.Subscribed && remote.Link is { IsClosed: false } link ? link : null;

    /// <summary>Primaries to (re-)subscribe now: never subscribed, link lost, or older than <see cref="RelayOptions.SubscriptionRefreshInterval"/>.</summary>
    public List<(Guid PrimaryId, string NodeId)> Due(DateTimeOffset now)
    {
        var list = new List<(Guid, string)>();
        foreach (var remote in _remotes.Values)
        {
            if (!remote.Subscribed || remote.Link is null || remote.Link.IsClosed || now - remote.SubscribedAt > options.SubscriptionRefreshInterval)
            {
                list.Add((remote.Proxy.MeetingId, remote.PrimaryNodeId));
            }
        }

        return list;
    }

    /// <summary>Applies a subscription answer; returns the presence changes to show the local replicas.</summary>
    public List<(RelayedAttendee Attendee, bool Joined)> Apply(Guid primaryId, RelayLink link, PrimarySubscription subscription, DateTimeOffset now)
    {
        if (!_remotes.TryGetValue(primaryId, out var remote) || link.IsClosed)
        {
            return [];
        }

        if (!subscription.Accepted)
        {
            Log.RelaySubscriptionRefused(logger, link.PeerNodeId, primaryId, subscription.Reason ?? "");
            if (subscription.Reason == "unknown-link")
            {
                link.Close("relay-peer-forgot-link");
            }

            return [];
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

    public void StreamAdded(RelayStreamAdded message)
    {
        if (Over(message.PrimaryMeetingId, message.LinkId) is { } remote)
        {
            remote.AddStream(message.Stream);
        }
    }

    public void StreamRemoved(RelayStreamRemoved message)
    {
        if (Over(message.PrimaryMeetingId, message.LinkId) is { } remote)
        {
            remote.RemoveStream(message.StreamId);
        }
    }

    /// <summary>True when the change is new for the primary's roster as seen here (to be shown to the local replicas).</summary>
    public bool PresenceChanged(RelayPresenceChanged message) =>
        Over(message.PrimaryMeetingId, message.LinkId) is { } remote && remote.SetAttendee(message.Attendee, message.Joined);

    /// <summary>The link broke: the primaries it carried lose their streams until it is back.</summary>
    public void LinkClosed(RelayLink link)
    {
        foreach (var remote in _remotes.Values)
        {
            if (remote.Link == link)
            {
                remote.Detach();
            }
        }
    }

    public bool Uses(RelayLink link)
    {
        foreach (var remote in _remotes.Values)
        {
            if (remote.Link == link)
            {
                return true;
            }
        }

        return false;
    }

    private RemotePrimary? Over(Guid primaryMeetingId, Guid linkId) =>
        _remotes.TryGetValue(primaryMeetingId, out var remote) && remote.Link?.LinkId == linkId ? remote : null;
}
