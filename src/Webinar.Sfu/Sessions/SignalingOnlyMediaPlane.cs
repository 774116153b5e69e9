namespace Webinar.Sfu.Sessions;

/// <summary>
/// The media plane of a node started without one (a signalling-only node): meetings have no streams and every
/// offer is refused with <c>media-unavailable</c>. Media/'s AddMedia() registers the real plane in its place.
/// </summary>
internal sealed class SignalingOnlyMediaPlane : IMediaPlane
{
    public IMeetingMedia OpenMeeting(MeetingMediaPlacement placement, IMeetingMediaListener listener) => new Meeting();

    private sealed class Meeting : IMeetingMedia
    {
        public IPeerMedia AddPeer(MediaPeer peer, IPeerMediaListener listener) => new Peer();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Peer : IPeerMedia
    {
        private const string Message = "This node has no media plane.";

        public ValueTask<MediaAnswer> AnswerAsync(string offerSdp, CancellationToken cancellationToken) =>
            ValueTask.FromResult(MediaAnswer.Refused(MediaRefusal.Unavailable, Message));

        public ValueTask<MediaOutcome> PromoteAsync(MediaPromotion promotion, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new MediaOutcome(MediaRefusal.Unavailable, Message));

        public ValueTask<MediaOutcome> DemoteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(MediaOutcome.Ok);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
