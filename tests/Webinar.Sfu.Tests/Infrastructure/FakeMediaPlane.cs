using System.Collections.Concurrent;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>
/// A media plane for signalling tests: answers every offer with a fixed SDP and assigns the meeting's streams to
/// mids "0", "1", ...; an offer containing "bad-offer" is refused, one containing "large-answer" gets a 32 KiB answer. Tests publish streams through <see cref="Meeting"/>.
/// </summary>
internal sealed class FakeMediaPlane : IMediaPlane
{
    public ConcurrentDictionary<Guid, FakeMeetingMedia> Meetings { get; } = new();

    public IMeetingMedia OpenMeeting(MeetingMediaPlacement placement, IMeetingMediaListener listener) =>
        Meetings.GetOrAdd(placement.MeetingId, _ => new FakeMeetingMedia(placement, listener));

    public FakeMeetingMedia Meeting(Guid meetingId) => Meetings[meetingId];
}

internal sealed class FakeMeetingMedia(MeetingMediaPlacement placement, IMeetingMediaListener listener) : IMeetingMedia
{
    private readonly ConcurrentDictionary<string, MediaStreamInfo> _streams = new();

    public MeetingMediaPlacement Placement { get; } = placement;

    public ConcurrentBag<FakePeerMedia> Peers { get; } = [];

    /// <summary>
    /// The peer of <paramref name="externalUserId"/>, once its session added it: <c>joined</c> goes out before the
    /// session adds the peer (frames the client sends meanwhile wait for it), so a test that acts on the peer right
    /// after reading <c>joined</c> waits here.
    /// </summary>
    public async Task<FakePeerMedia> PeerAsync(string externalUserId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            foreach (var peer in Peers)
            {
                if (peer.Peer.ExternalUserId == externalUserId)
                {
                    return peer;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No peer for {externalUserId} within 10 s of joining.");
            }

            await Task.Delay(10);
        }
    }

    public bool Disposed { get; private set; }

    public void Publish(MediaStreamInfo stream)
    {
        _streams[stream.StreamId] = stream;
        listener.OnStreamPublished(stream);
    }

    public void Unpublish(MediaStreamInfo stream)
    {
        _streams.TryRemove(stream.StreamId, out _);
        listener.OnStreamUnpublished(stream);
    }

    public IPeerMedia AddPeer(MediaPeer peer, IPeerMediaListener peerListener)
    {
        var p = new FakePeerMedia(this, peer, peerListener);
        Peers.Add(p);
        return p;
    }

    public IReadOnlyList<MediaStreamInfo> StreamsFor(Guid attendeeId) => [.. _streams.Values.Where(s => s.AttendeeId != attendeeId).OrderBy(s => s.StreamId)];

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

internal sealed class FakePeerMedia(FakeMeetingMedia meeting, MediaPeer peer, IPeerMediaListener listener) : IPeerMedia
{
    /// <summary>Characters of the answer to an offer containing "large-answer".</summary>
    public const int LargeAnswerLength = 32 * 1024;

    public MediaPeer Peer { get; } = peer;

    public IPeerMediaListener Listener { get; } = listener;

    public MediaPromotion? Promotion { get; private set; }

    public int Demotions { get; private set; }

    public bool Disposed { get; private set; }

    public ValueTask<MediaAnswer> AnswerAsync(string offerSdp, CancellationToken cancellationToken)
    {
        if (offerSdp.Contains("bad-offer", StringComparison.Ordinal))
        {
            return ValueTask.FromResult(MediaAnswer.Refused(MediaRefusal.BadOffer, "The offer has no BUNDLE group."));
        }

        if (offerSdp.Contains("large-answer", StringComparison.Ordinal))
        {
            return ValueTask.FromResult(MediaAnswer.Accepted("v=0\r\n" + new string('x', LargeAnswerLength), []));
        }

        var slots = meeting.StreamsFor(Peer.AttendeeId).Select((s, i) => new MediaSlot(i.ToString(System.Globalization.CultureInfo.InvariantCulture), s)).ToList();
        return ValueTask.FromResult(MediaAnswer.Accepted("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n", slots));
    }

    public ValueTask<PromotionOutcome> PromoteAsync(MediaPromotion promotion, CancellationToken cancellationToken)
    {
        Promotion = promotion;
        return ValueTask.FromResult(new PromotionOutcome(MediaOutcome.Ok, Admission?.Task ?? PromotionOutcome.Decided(MediaOutcome.Ok).Admission));
    }

    /// <summary>When set, the next promotion's admission by the primary's node completes only when the test says so.</summary>
    public TaskCompletionSource<MediaOutcome>? Admission { get; set; }

    /// <summary>Streams the test published as this peer's promotion; demotion unpublishes them, as the real plane does.</summary>
    public List<(FakeMeetingMedia Meeting, MediaStreamInfo Stream)> PromotedStreams { get; } = [];

    public ValueTask<MediaOutcome> DemoteAsync(CancellationToken cancellationToken)
    {
        foreach (var (meeting, stream) in PromotedStreams)
        {
            meeting.Unpublish(stream);
        }

        PromotedStreams.Clear();
        Promotion = null;
        Demotions++;
        return ValueTask.FromResult(MediaOutcome.Ok);
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
