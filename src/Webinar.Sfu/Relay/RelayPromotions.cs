using System.Threading.Channels;
using MassTransit;
using Webinar.Contracts.Relay;
using Webinar.Sfu.Media;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Relay;

/// <summary>
/// A replica attendee here promoted into a primary on another node. The replica's node asks (<see cref="AskAsync"/>,
/// <c>AdmitPromotion</c>) over the link its primary is subscribed on, without waiting for the answer before it replies
/// <c>promoted</c> and relays the speaker (a refusal, or no answer within <see cref="RelayOptions.RequestTimeout"/>,
/// undoes the promotion as a demotion); the primary's node answers (<see cref="AnswerAsync"/>)
/// by the meeting's one admission rule (<see cref="MeetingRooms.AdmitRemotePromotion"/>) and counts the attendee until
/// <c>RelayPromotionEnded</c> or the link closing. The refusal reasons on the wire, both ways, are mapped here only.
/// The rooms are handed in by whoever brings the message (they depend on the media plane, which depends on the relay).
/// </summary>
internal sealed class RelayPromotions(
    IBus bus, MediaWorker node, RelayLinks links, RemotePrimaries remotes, RelayOutbox outbox, RevokedAttendees revoked, string nodeId, RelayOptions options)
{
    public const string MeetingFull = "meeting-full";
    public const string AlreadyConnected = "already-connected";
    public const string AttendeeDeleted = "attendee-deleted";
    public const string UnknownLink = "unknown-link";
    public const string NotPlacedHere = "not-placed-here";

    private readonly Channel<string> _closedLinks = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The primary's node's decision on the wire.</summary>
    public static PromotionAdmission Answer(PromotionResult result) => result switch
    {
        PromotionResult.Reserved => new PromotionAdmission(true, null),
        PromotionResult.MeetingFull => new PromotionAdmission(false, MeetingFull),
        PromotionResult.AlreadyConnected => new PromotionAdmission(false, AlreadyConnected),
        _ => new PromotionAdmission(false, NotPlacedHere),
    };

    /// <summary>The decision as the replica's node tells its client.</summary>
    public static MediaOutcome Outcome(PromotionAdmission admission) => admission switch
    {
        { Admitted: true } => MediaOutcome.Ok,
        { Reason: MeetingFull } => new MediaOutcome(MediaRefusal.MeetingFull, RefusalMessages.PrimaryFull),
        { Reason: AlreadyConnected } => new MediaOutcome(MediaRefusal.AlreadyConnected, RefusalMessages.PrimaryAttendeeConnected),
        { Reason: AttendeeDeleted } => new MediaOutcome(MediaRefusal.AttendeeDeleted, "The promotion token's attendee was deleted."),
        { Reason: NotPlacedHere } => new MediaOutcome(MediaRefusal.MeetingGone, "The primary meeting is not on its node any more."),
        var refused => new MediaOutcome(MediaRefusal.Unavailable, $"The primary's node refused the promotion ({refused.Reason})."),
    };

    /// <summary>Primary's node: answers another node's <c>AdmitPromotion</c>. Bus thread.</summary>
    public async Task<PromotionAdmission> AnswerAsync(AdmitPromotion request, MeetingRooms rooms)
    {
        var linked = await node.Loop.InvokeAsync(() => links.IsCurrent(request.FromNodeId, request.LinkId, out _)).ConfigureAwait(false);
        if (!linked)
        {
            return new PromotionAdmission(false, UnknownLink);
        }

        // DeleteAttendee may have reached this node before the request (the replica's node checked it when it could).
        if (revoked.IsRevoked(request.Attendee.AttendeeId))
        {
            return new PromotionAdmission(false, AttendeeDeleted);
        }

        var member = new PresenceMember(request.Attendee.AttendeeId, request.Attendee.ExternalUserId, Guid.Empty);
        return Answer(rooms.AdmitRemotePromotion(request.PrimaryMeetingId, member, request.FromNodeId));
    }

    /// <summary>Replica's node: asks the primary's node to admit <paramref name="attendee"/>. Any thread.</summary>
    public async Task<MediaOutcome> AskAsync(Guid primaryMeetingId, ProducerOwner attendee, CancellationToken cancellationToken)
    {
        var link = await node.Loop.InvokeAsync(() => remotes.LinkOf(primaryMeetingId)).ConfigureAwait(false);
        if (link is null)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, RefusalMessages.RelayNotUp);
        }

        try
        {
            var client = bus.CreateRequestClient<AdmitPromotion>(MediaRelay.NodeQueue(link.PeerNodeId), RequestTimeout.After(ms: (int)options.RequestTimeout.TotalMilliseconds));
            var response = await client.GetResponse<PromotionAdmission>(new AdmitPromotion(link.LinkId, nodeId, primaryMeetingId,
                new RelayedAttendee(attendee.AttendeeId, attendee.ExternalUserId)), cancellationToken).ConfigureAwait(false);
            return Outcome(response.Message);
        }
        catch (RequestTimeoutException)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, "The primary's node did not answer; try again shortly.");
        }
    }

    /// <summary>Replica's node: a promotion admitted by <see cref="AskAsync"/> ended. Loop thread.</summary>
    public void Ended(Guid primaryMeetingId, ProducerOwner attendee)
    {
        if (remotes.LinkOf(primaryMeetingId) is { } link)
        {
            outbox.Enqueue(link.PeerNodeId, new RelayPromotionEnded(link.LinkId, nodeId, primaryMeetingId,
                new RelayedAttendee(attendee.AttendeeId, attendee.ExternalUserId)));
        }
    }

    /// <summary>Primary's node: the replica's node says a promotion ended; the place frees.</summary>
    public void OnEnded(RelayPromotionEnded message, MeetingRooms rooms) => rooms.ReleaseRemotePromotion(message.PrimaryMeetingId, message.Attendee.AttendeeId);

    /// <summary>Primary's node: a link closed, so every promotion from its node ends (<see cref="ReleaseClosedLinksAsync"/>). Loop thread.</summary>
    public void LinkClosed(RelayLink link) => _closedLinks.Writer.TryWrite(link.PeerNodeId);

    /// <summary>Ends, in the rooms, the promotions from each node whose link closed, in the order the links closed, until stopped.</summary>
    public async Task ReleaseClosedLinksAsync(MeetingRooms rooms, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var peerNodeId in _closedLinks.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                rooms.ReleaseRemotePromotionsFrom(peerNodeId);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
