using System.Collections.Concurrent;
using Webinar.Contracts.Relay;
using Webinar.Sfu.Media;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Relay;

/// <summary>
/// The primary's node side of the relay: which links subscribed to each primary placed here (<see cref="HostedPrimary"/>),
/// the subscription snapshot (every stream, each with its SSRC on the link, and the roster), presence changes sent to
/// every subscribed node, and the streams promoted attendees elsewhere publish into the primary. A replica's node
/// relays a promoted speaker at once, before this node has admitted the promotion (it owns the primary's limit), so a
/// promoted stream is held (<see cref="Producer.IsHeld"/>: dropped and counted, in no router) until the rooms admit that
/// attendee from that node, and leaves the primary when the admission ends. Media-loop state, except
/// <see cref="OnPresence"/> and <see cref="OnRemotePromotion"/>, which the rooms call under their lock (they only enqueue).
/// </summary>
internal sealed class HostedPrimaries(MediaWorker worker, MeetingDirectory directory, RelayLinks links, RelayOutbox outbox, string nodeId)
{
    private readonly ConcurrentDictionary<Guid, (string NodeId, Guid LinkId)[]> _presenceTargets = new();

    // Media-loop state.
    private readonly Dictionary<Guid, HostedPrimary> _primaries = [];

    /// <summary>Promotions from other nodes the rooms admitted: (primary, attendee) → the node it speaks from.</summary>
    private readonly Dictionary<(Guid PrimaryMeetingId, Guid AttendeeId), string> _admitted = [];

    private TimeProvider Time => worker.Time;

    /// <summary>
    /// Answers <c>SubscribePrimary</c>: the link must be the requester's current one and the primary placed here
    /// (<paramref name="plane"/> opens its router on the first subscription).
    /// </summary>
    public PrimarySubscription Subscribe(SubscribePrimary request, IReadOnlyList<PresenceMember> roster, NodeMediaPlane plane)
    {
        if (!links.IsCurrent(request.FromNodeId, request.LinkId, out var link))
        {
            return Refused(request.PrimaryMeetingId, "unknown-link");
        }

        var placement = directory.Find(request.PrimaryMeetingId);
        if (placement is null || placement.IsReplica || placement.NodeId != nodeId)
        {
            return Refused(request.PrimaryMeetingId, "not-placed-here");
        }

        if (!_primaries.TryGetValue(request.PrimaryMeetingId, out var primary))
        {
            var router = plane.GetOrCreateRouter(request.PrimaryMeetingId, null, null);
            primary = new HostedPrimary(router, outbox, Time);
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
                streams.Add(RelayStreamMapping.ToRelayed(producer, RelayStreamMapping.EnsureConsumer(link, producer, Time)));
            }
        }

        var attendees = new List<RelayedAttendee>(roster.Count);
        foreach (var member in roster)
        {
            attendees.Add(new RelayedAttendee(member.AttendeeId, member.ExternalUserId));
        }

        return new PrimarySubscription(request.PrimaryMeetingId, true, null, streams, attendees);
    }

    public void Unsubscribe(UnsubscribePrimary message)
    {
        if (_primaries.TryGetValue(message.PrimaryMeetingId, out var primary))
        {
            primary.Links.RemoveWhere(l => l.LinkId == message.LinkId);
            UpdatePresenceTargets(primary);
        }
    }

    /// <summary>The primary's roster changed here: every subscribed node hears it. Rooms lock held: never blocks.</summary>
    public void OnPresence(Guid primaryMeetingId, PresenceMember member, bool joined)
    {
        if (_presenceTargets.TryGetValue(primaryMeetingId, out var targets))
        {
            var attendee = new RelayedAttendee(member.AttendeeId, member.ExternalUserId);
            foreach (var (peer, linkId) in targets)
            {
                outbox.Enqueue(peer, new RelayPresenceChanged(linkId, primaryMeetingId, attendee, joined));
            }
        }
    }

    /// <summary>A promoted attendee on the link's node published or withdrew a stream of the primary; false when the link or primary is unknown.</summary>
    public bool PromotedStream(RelayPromotedStream message)
    {
        if (!links.IsCurrent(message.FromNodeId, message.LinkId, out var link) || !_primaries.TryGetValue(message.PrimaryMeetingId, out var primary))
        {
            return false;
        }

        if (message.Published)
        {
            if (!primary.Promoted.ContainsKey(message.Stream.StreamId)
                && RelayStreamMapping.TryCreateProducer(message.PrimaryMeetingId, message.Stream, link, Time, out var producer))
            {
                primary.Promoted[message.Stream.StreamId] = producer;
                link.AddProducer(producer);
                if (IsAdmitted(message.PrimaryMeetingId, producer))
                {
                    primary.Router.AddProducer(producer);
                }
                else
                {
                    producer.Hold();
                }
            }
        }
        else if (primary.Promoted.Remove(message.Stream.StreamId, out var producer))
        {
            link.RemoveProducer(producer);
            primary.Router.RemoveProducer(producer);
            producer.Close();
        }

        return true;
    }

    /// <summary>The rooms admitted a promotion from another node, or it ended. Rooms lock held: only posts to the loop, in order.</summary>
    public void OnRemotePromotion(Guid primaryMeetingId, Guid attendeeId, string fromNodeId, bool admitted) =>
        worker.Loop.Post(() => RemotePromotion(primaryMeetingId, attendeeId, fromNodeId, admitted));

    /// <summary>
    /// Loop thread. Admitted: the attendee's held streams from that node enter the primary (its subscribers, every other
    /// replica's node). Ended: what it published leaves the primary (the replica's node withdraws it too, later).
    /// </summary>
    private void RemotePromotion(Guid primaryMeetingId, Guid attendeeId, string fromNodeId, bool admitted)
    {
        if (admitted)
        {
            _admitted[(primaryMeetingId, attendeeId)] = fromNodeId;
        }
        else if (!_admitted.Remove((primaryMeetingId, attendeeId)))
        {
            return;
        }

        if (!_primaries.TryGetValue(primaryMeetingId, out var primary))
        {
            return;
        }

        foreach (var (streamId, producer) in primary.Promoted.ToArray())
        {
            if (producer.Owner.AttendeeId != attendeeId || producer.Transport is not RelayLink { } link || link.PeerNodeId != fromNodeId)
            {
                continue;
            }

            if (admitted && producer.IsHeld)
            {
                producer.Release();
                primary.Router.AddProducer(producer);
            }
            else if (!admitted && !producer.IsHeld)
            {
                // Held ones stay held: they may be a new promotion of the same attendee, whose admission is on its way.
                primary.Promoted.Remove(streamId);
                link.RemoveProducer(producer);
                primary.Router.RemoveProducer(producer);
            }
        }
    }

    private bool IsAdmitted(Guid primaryMeetingId, Producer producer) =>
        _admitted.TryGetValue((primaryMeetingId, producer.Owner.AttendeeId), out var fromNodeId)
        && producer.Transport is RelayLink link && link.PeerNodeId == fromNodeId;

    public void RouterClosed(Router router)
    {
        if (_primaries.Remove(router.MeetingId, out var primary))
        {
            _presenceTargets.TryRemove(router.MeetingId, out _);
            router.RemoveObserver(primary);
        }

        foreach (var key in _admitted.Keys.ToArray())
        {
            if (key.PrimaryMeetingId == router.MeetingId)
            {
                _admitted.Remove(key);
            }
        }
    }

    /// <summary>A link closed: it stops being a subscriber, and what promoted attendees published over it leaves the primary.</summary>
    public void LinkClosed(RelayLink link)
    {
        foreach (var primary in _primaries.Values)
        {
            primary.Links.Remove(link);
            foreach (var (streamId, producer) in primary.Promoted.ToArray())
            {
                if (producer.Transport == link)
                {
                    primary.Promoted.Remove(streamId);
                    primary.Router.RemoveProducer(producer);
                    producer.Close();
                }
            }

            UpdatePresenceTargets(primary);
        }
    }

    public bool Uses(RelayLink link)
    {
        foreach (var primary in _primaries.Values)
        {
            if (primary.Links.Contains(link))
            {
                return true;
            }
        }

        return false;
    }

    private static PrimarySubscription Refused(Guid primaryMeetingId, string reason) => new(primaryMeetingId, false, reason, [], []);

    private void UpdatePresenceTargets(HostedPrimary primary)
    {
        var targets = new List<(string, Guid)>();
        foreach (var link in primary.Links)
        {
            targets.Add((link.PeerNodeId, link.LinkId));
        }

        _presenceTargets[primary.Router.MeetingId] = [.. targets];
    }
}
