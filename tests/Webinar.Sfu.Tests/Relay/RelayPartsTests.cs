using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Webinar.Contracts.Relay;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Relay;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Tests.Media;

namespace Webinar.Sfu.Tests.Relay;

/// <summary>The relay's parts, each alone: the link tie-break, promotion reasons on the wire, streams on the wire, subscriptions due.</summary>
public sealed class RelayPartsTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly MediaWorker _node;

    public RelayPartsTests() =>
        _node = new MediaWorker(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, _time, NullLoggerFactory.Instance);

    [Theory]
    [InlineData("eu-west-1-a", "us-east-1-a", true)]
    [InlineData("us-east-1-a", "eu-west-1-a", false)]
    [InlineData("node-a", "node-a", false)]
    public void When_both_nodes_ask_at_once_the_smaller_node_id_wins(string own, string peer, bool ownWins)
    {
        Assert.Equal(ownWins, RelayLinks.OwnRequestWins(own, peer));
        if (own != peer)
        {
            Assert.NotEqual(RelayLinks.OwnRequestWins(own, peer), RelayLinks.OwnRequestWins(peer, own));
        }
    }

    [Theory]
    [InlineData((int)PromotionResult.Reserved, (int)MediaRefusal.None, null)]
    [InlineData((int)PromotionResult.MeetingFull, (int)MediaRefusal.MeetingFull, "primary-full")]
    [InlineData((int)PromotionResult.AlreadyConnected, (int)MediaRefusal.AlreadyConnected, "already-connected")]
    [InlineData((int)PromotionResult.MeetingGone, (int)MediaRefusal.MeetingGone, "meeting-ended")]
    public void The_primary_nodes_decision_reaches_the_replicas_client_unchanged(int decidedValue, int seenValue, string? demotedReason)
    {
        var (decided, seen) = ((PromotionResult)decidedValue, (MediaRefusal)seenValue);
        var outcome = RelayPromotions.Outcome(RelayPromotions.Answer(decided));

        Assert.Equal(seen, outcome.Refusal);
        Assert.Equal(decided == PromotionResult.Reserved, outcome.Succeeded);
        if (demotedReason is not null)
        {
            Assert.Equal(demotedReason, Webinar.Sfu.Signaling.DemotionReasons.Of(outcome.Refusal));
        }
    }

    [Theory]
    [InlineData(RelayPromotions.UnknownLink, (int)MediaRefusal.Unavailable, "primary-unavailable")]
    [InlineData(RelayPromotions.AttendeeDeleted, (int)MediaRefusal.AttendeeDeleted, "attendee-deleted")]
    [InlineData("something-new", (int)MediaRefusal.Unavailable, "primary-unavailable")]
    public void Other_refusals_on_the_wire_undo_the_promotion_with_their_reason(string wireReason, int seenValue, string demotedReason)
    {
        var outcome = RelayPromotions.Outcome(new PromotionAdmission(false, wireReason));
        Assert.Equal((MediaRefusal)seenValue, outcome.Refusal);
        Assert.Equal(demotedReason, Webinar.Sfu.Signaling.DemotionReasons.Of(outcome.Refusal));
    }

    [Fact]
    public void A_relayed_stream_carries_its_codec_and_its_extensions_but_not_the_mid()
    {
        var producer = new Producer("s1", MediaKind.Audio, 0x1234, MediaFixtures.Opus, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), new RecordingProducerTransport(), _time)
        {
            ExtensionIds = new Dictionary<string, byte>
            {
                [RtpExtensionUris.Mid] = 1,
                [RtpExtensionUris.TransportWideSequenceNumber] = 3,
                [RtpExtensionUris.AudioLevel] = 5,
            },
        };

        var relayed = RelayStreamMapping.ToRelayed(producer, 0xABCD);

        Assert.Equal(("s1", "audio", 0xABCDu, "opus", 48000), (relayed.StreamId, relayed.Kind, relayed.RelaySsrc, relayed.Codec, relayed.ClockRate));
        Assert.Equal(producer.Owner.AttendeeId, relayed.AttendeeId);
        // The mid names an m-line of the publisher's session; the transport-wide element travels as room for the far
        // node to renumber per subscriber (its bandwidth estimation).
        Assert.Equal([RtpExtensionUris.TransportWideSequenceNumber, RtpExtensionUris.AudioLevel], relayed.ExtensionIds.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("data", 90000, 96)]
    [InlineData("video", 0, 96)]
    [InlineData("video", 90000, 128)]
    [InlineData("audio", 48000, -1)]
    public void A_relayed_stream_no_producer_can_be_made_of_is_refused(string kind, int clockRate, int payloadType)
    {
        var stream = new RelayedStream("s", Guid.NewGuid(), "u", kind, 1, "VP8", payloadType, clockRate, null, null, new Dictionary<string, byte>());
        Assert.False(RelayStreamMapping.TryCreateProducer(Guid.NewGuid(), stream, null!, _time, out _));
    }

    [Fact]
    public void A_remote_primary_is_due_until_subscribed_and_again_after_the_refresh_interval()
    {
        var remotes = new RemotePrimaries("node-b", Outbox(), _time, new RelayOptions(), NullLogger.Instance);
        var proxy = new Router(Guid.NewGuid(), null) { IsRemotePrimary = true };
        remotes.Opened(proxy, "node-a");
        Assert.Equal([(proxy.MeetingId, "node-a")], remotes.Due(_time.GetUtcNow()));
        Assert.False(remotes.CanPublishInto(proxy));

        var link = NewLink("node-a");
        var presence = remotes.Apply(proxy.MeetingId, link, new PrimarySubscription(proxy.MeetingId, true, null, [],
            [new RelayedAttendee(Guid.NewGuid(), "presenter")]), _time.GetUtcNow());

        Assert.Single(presence);
        Assert.True(presence[0].Joined);
        Assert.Empty(remotes.Due(_time.GetUtcNow()));
        Assert.True(remotes.CanPublishInto(proxy));
        Assert.True(remotes.Uses(link));

        _time.Advance(new RelayOptions().SubscriptionRefreshInterval + TimeSpan.FromSeconds(1));
        Assert.Single(remotes.Due(_time.GetUtcNow()));

        remotes.LinkClosed(link);
        Assert.False(remotes.CanPublishInto(proxy));
        Assert.False(remotes.Uses(link));
    }

    [Fact]
    public void Stream_and_presence_messages_over_another_link_than_the_subscription_are_ignored()
    {
        var remotes = new RemotePrimaries("node-b", Outbox(), _time, new RelayOptions(), NullLogger.Instance);
        var proxy = new Router(Guid.NewGuid(), null) { IsRemotePrimary = true };
        remotes.Opened(proxy, "node-a");
        var link = NewLink("node-a");
        remotes.Apply(proxy.MeetingId, link, new PrimarySubscription(proxy.MeetingId, true, null, [], []), _time.GetUtcNow());
        var speaker = new RelayedAttendee(Guid.NewGuid(), "speaker");

        Assert.False(remotes.PresenceChanged(new RelayPresenceChanged(Guid.NewGuid(), proxy.MeetingId, speaker, true)));
        Assert.True(remotes.PresenceChanged(new RelayPresenceChanged(link.LinkId, proxy.MeetingId, speaker, true)));
        Assert.False(remotes.PresenceChanged(new RelayPresenceChanged(link.LinkId, proxy.MeetingId, speaker, true)));
    }

    public void Dispose() => _node.Dispose();

    /// <summary>An outbox never run here: what the parts enqueue stays queued, nothing reaches a bus.</summary>
    private RelayOutbox Outbox() => new(null!, _time, new RelayOptions(), NullLogger.Instance);

    private RelayLink NewLink(string peer) => new(_node, Guid.NewGuid(), peer, new IPEndPoint(IPAddress.Loopback, 9), SrtpProfile.AeadAes128Gcm,
        RelayKeySet.Generate(SrtpProfile.AeadAes128Gcm), RelayKeySet.Generate(SrtpProfile.AeadAes128Gcm), new NoListener(), new RelayOptions());

    private sealed class NoListener : IRelayLinkListener
    {
        public void OnLinkClosed(RelayLink link, string reason)
        {
        }
    }
}
