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
/// every subscribed node, and the streams promoted attendees elsewhere publish into the primary. Media-loop state,
/// except <see cref="OnPresence"/> which the rooms call under their lock (it only enqueues).
/// </summary>
internal sealed class HostedPrimaries(MediaWorker worker, MeetingDirectory directory, RelayLinks links, RelayOutbox outbox, string nodeId)
{
    private readonly ConcurrentDictionary<Guid, (string NodeId, Guid LinkId)[]> _presenceTargets = new();

    // Media-loop state.
    private readonly Dictionary<Guid, HostedPrimary> _primaries = [];

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
                primary.Router.AddProducer(producer);
            }
        }
        else if (primary.Promoted.Remove(message.Stream.StreamId, out var producer))
        {
            link.RemoveProducer(producer);
            primary.Router.RemoveProducer(producer);
        }

        return true;
    }

    public void RouterClosed(Router router)
    {
        if (_primaries.Remove(router.MeetingId, out var primary))
        {
            _presenceTargets.TryRemove(router.MeetingId, out _);
            router.RemoveObserver(primary);
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
