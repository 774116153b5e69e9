using Webinar.Contracts.Relay;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Relay;

/// <summary>Replica's node: a primary hosted elsewhere, its proxy router here, and what came over the link.</summary>
internal sealed class RemotePrimary(Router proxy, string primaryNodeId, string nodeId, RelayOutbox outbox, TimeProvider time) : IRouterObserver
{
    private readonly Dictionary<string, Producer> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, RelayedAttendee> _attendees = [];

    public Router Proxy { get; } = proxy;

    public string PrimaryNodeId { get; } = primaryNodeId;

    public RelayLink? Link { get; set; }

    public bool Subscribed { get; set; }

    public DateTimeOffset SubscribedAt { get; set; }

    public void AddStream(RelayedStream stream)
    {
        if (Link is null || _streams.ContainsKey(stream.StreamId) || !RelayStreamMapping.TryCreateProducer(Proxy.MeetingId, stream, Link, time, out var producer))
        {
            return;
        }

        _streams[stream.StreamId] = producer;
        Link.AddProducer(producer);
        Proxy.AddProducer(producer);
    }

    public void RemoveStream(string streamId)
    {
        if (_streams.Remove(streamId, out var producer))
        {
            Link?.RemoveProducer(producer);
            Proxy.RemoveProducer(producer);
        }
    }

    /// <summary>Makes the relayed streams exactly the subscription's.</summary>
    public void Reconcile(IReadOnlyList<RelayedStream> streams)
    {
        var wanted = new Dictionary<string, RelayedStream>(StringComparer.Ordinal);
        foreach (var stream in streams)
        {
            wanted[stream.StreamId] = stream;
        }

        foreach (var (id, producer) in _streams.ToArray())
        {
            if (!wanted.TryGetValue(id, out var stream) || stream.RelaySsrc != producer.Ssrc)
            {
                RemoveStream(id);
            }
        }

        foreach (var stream in streams)
        {
            AddStream(stream);
        }
    }

    public bool SetAttendee(RelayedAttendee attendee, bool joined) =>
        joined ? _attendees.TryAdd(attendee.AttendeeId, attendee) : _attendees.Remove(attendee.AttendeeId);

    public List<(RelayedAttendee, bool)> ReconcileAttendees(IReadOnlyList<RelayedAttendee> roster)
    {
        var changes = new List<(RelayedAttendee, bool)>();
        var wanted = new HashSet<Guid>();
        foreach (var attendee in roster)
        {
            wanted.Add(attendee.AttendeeId);
            if (_attendees.TryAdd(attendee.AttendeeId, attendee))
            {
                changes.Add((attendee, true));
            }
        }

        foreach (var attendee in _attendees.Values.ToArray())
        {
            if (!wanted.Contains(attendee.AttendeeId))
            {
                _attendees.Remove(attendee.AttendeeId);
                changes.Add((attendee, false));
            }
        }

        return changes;
    }

    /// <summary>The link broke: the primary's streams are gone for the audience here until the link is back.</summary>
    public void Detach()
    {
        foreach (var id in _streams.Keys.ToArray())
        {
            RemoveStream(id);
        }

        Subscribed = false;
        Link = null;
    }

    // A promoted attendee here publishes into this proxy: carry its streams to the primary's node.
    public void OnStreamAdded(Producer producer)
    {
        if (producer.Transport is RelayLink || Link is not { IsClosed: false } link)
        {
            return;
        }

        var consumer = RelayStreamMapping.EnsureConsumer(link, producer, time);
        outbox.Enqueue(link.PeerNodeId, new RelayPromotedStream(link.LinkId, nodeId, Proxy.MeetingId, RelayStreamMapping.ToRelayed(producer, consumer), true));
    }

    public void OnStreamRemoved(Producer producer)
    {
        if (producer.Transport is RelayLink || Link is not { IsClosed: false } link)
        {
            return;
        }

        outbox.Enqueue(link.PeerNodeId, new RelayPromotedStream(link.LinkId, nodeId, Proxy.MeetingId, RelayStreamMapping.ToRelayed(producer, 0), false));
    }
}
