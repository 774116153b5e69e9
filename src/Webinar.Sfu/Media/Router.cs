namespace Webinar.Sfu.Media;

/// <summary>
/// The media of one meeting on this node: the producers everyone in it may receive and the peer connections of its
/// attendees. A replica's router takes its producers from its primary's router (on this node: in process, no
/// network), and nobody in a replica ever publishes into it. Loop thread only.
/// </summary>
internal sealed class Router
{
    private readonly List<Producer> _producers = [];
    private readonly List<PeerConnection> _peers = [];
    private readonly List<Router> _replicas = [];

    public Router(Guid meetingId, Router? primary)
    {
        MeetingId = meetingId;
        Primary = primary;
        primary?._replicas.Add(this);
    }

    public Guid MeetingId { get; }

    /// <summary>The primary meeting's router when this one is a replica.</summary>
    public Router? Primary { get; }

    private IRouterObserver[] _observers = [];

    /// <summary>
    /// True for a primary hosted on another node: this router only holds the primary's streams relayed here, for the
    /// local replicas (and the streams a promoted replica attendee here publishes into that primary).
    /// </summary>
    public bool IsRemotePrimary { get; init; }

    /// <summary>The replica routers fed by this one.</summary>
    public IReadOnlyList<Router> Replicas => _replicas;

    /// <summary>Observers hear of every stream its attendees may receive (signalling, the relay).</summary>
    public void AddObserver(IRouterObserver observer) => _observers = [.. _observers, observer];

    public void RemoveObserver(IRouterObserver observer) => _observers = Array.FindAll(_observers, o => o != observer);

    public IReadOnlyList<Producer> OwnProducers => _producers;

    /// <summary>The producers attendees of this meeting receive: the primary's for a replica.</summary>
    public IReadOnlyList<Producer> VisibleProducers => Primary is null ? _producers : Primary.VisibleProducers;

    public void Join(PeerConnection peer) => _peers.Add(peer);

    public void Leave(PeerConnection peer) => _peers.Remove(peer);

    /// <summary>A publisher of this (primary) meeting started a track: every attendee here and in the replicas may receive it.</summary>
    public void AddProducer(Producer producer)
    {
        _producers.Add(producer);
        Announce(producer, added: true);
    }

    /// <summary>The track ended: its consumers close, and everyone is told.</summary>
    public void RemoveProducer(Producer producer)
    {
        if (!_producers.Remove(producer))
        {
            return;
        }

        producer.Close();
        Announce(producer, added: false);
    }

    private void Announce(Producer producer, bool added)
    {
        foreach (var observer in _observers)
        {
            if (added)
            {
                observer.OnStreamAdded(producer);
            }
            else
            {
                observer.OnStreamRemoved(producer);
            }
        }

        foreach (var peer in _peers.ToArray())
        {
            if (added)
            {
                peer.OnProducerAdded(producer);
            }
            else
            {
                peer.OnProducerRemoved(producer);
            }
        }

        foreach (var replica in _replicas.ToArray())
        {
            replica.Announce(producer, added);
        }
    }

    /// <summary>The meeting is over on this node: detach from the primary.</summary>
    public void Close()
    {
        Primary?._replicas.Remove(this);
        _observers = [];
        foreach (var producer in _producers.ToArray())
        {
            RemoveProducer(producer);
        }
    }
}
