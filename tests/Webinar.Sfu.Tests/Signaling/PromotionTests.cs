using Webinar.Contracts.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

[Collection(SfuNodeCollection.Name)]
public sealed class PromotionTests(SfuNodeFixture node)
{
    [Fact]
    public async Task Presenter_in_the_primary_cannot_promote_or_demote()
    {
        var primary = await node.CreateMeetingAsync();
        var (p, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = p;

        await p.SendAsync(new { type = "promote", id = "p", token = node.Keys.Token(primary, Guid.NewGuid(), "someone") });
        Assert.Equal("not-allowed", (await p.ExpectAsync("error")).GetProperty("code").GetString());
        await p.SendAsync(new { type = "demote", id = "d" });
        var error = await p.ExpectAsync("error");
        Assert.Equal("not-allowed", error.GetProperty("code").GetString());
        Assert.Equal("d", error.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Promote_with_a_token_of_another_primary_is_refused()
    {
        var primary = await node.CreateMeetingAsync();
        var otherPrimary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;

        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(otherPrimary, Guid.NewGuid(), "speaker") });

        Assert.Equal("not-allowed", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        Assert.All(node.Media.Meeting(replica).Peers, peer => Assert.Null(peer.Promotion));
    }

    [Fact]
    public async Task Promote_with_a_replica_token_or_a_bad_token_is_refused()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;

        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(replica, Guid.NewGuid(), "other-viewer", primary) });
        Assert.Equal("not-allowed", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        await viewer.SendAsync(new { type = "promote", token = "not.a.token" });
        Assert.Equal("invalid-token", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(primary, Guid.NewGuid(), "s", validFor: TimeSpan.FromMinutes(-5)) });
        Assert.Equal("token-expired", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        await viewer.SendAsync(new { type = "demote" });
        Assert.Equal("not-allowed", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Promoted_replica_attendee_appears_in_the_primary_and_demote_reverts_it()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (presenter, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = presenter;
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;
        var (neighbour, _) = await node.JoinAsync(replica, Guid.NewGuid(), "neighbour", primary);
        await using var _n = neighbour;

        var speaker = Guid.NewGuid();
        await viewer.SendAsync(new { type = "promote", id = 1, token = node.Keys.Token(primary, speaker, "speaker") });
        var promoted = await viewer.ExpectAsync("promoted");
        Assert.Equal(speaker, promoted.GetProperty("attendeeId").GetGuid());
        Assert.Equal(primary, promoted.GetProperty("meetingId").GetGuid());
        Assert.True(promoted.GetProperty("canPublish").GetProperty("video").GetBoolean());
        Assert.Equal(speaker, (await presenter.ExpectAsync("attendee-joined")).GetProperty("attendeeId").GetGuid());
        Assert.Equal(speaker, (await neighbour.ExpectAsync("attendee-joined")).GetProperty("attendeeId").GetGuid());
        var peer = await node.Media.Meeting(replica).PeerAsync("viewer");
        Assert.Equal(speaker, peer.Promotion!.AttendeeId);

        // Now it may offer to send.
        await viewer.SendAsync(new { type = "offer", sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n" });
        await viewer.ExpectAsync("answer");

        await viewer.SendAsync(new { type = "demote", id = 2 });
        Assert.Equal("requested", (await viewer.ExpectAsync("demoted")).GetProperty("reason").GetString());
        Assert.Equal(speaker, (await presenter.ExpectAsync("attendee-left")).GetProperty("attendeeId").GetGuid());
        Assert.Equal(1, peer.Demotions);
        await viewer.SendAsync(new { type = "offer", sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n" });
        Assert.Equal("not-allowed", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_promotion_the_primarys_node_refuses_after_promoted_is_undone_with_demoted_primary_full()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;
        var peer = await node.Media.Meeting(replica).PeerAsync("viewer");
        peer.Admission = new TaskCompletionSource<MediaOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The media plane published already and waits for the primary's node: the client is told at once.
        await viewer.SendAsync(new { type = "promote", id = "p", token = node.Keys.Token(primary, Guid.NewGuid(), "speaker") });
        Assert.Equal("p", (await viewer.ExpectAsync("promoted")).GetProperty("id").GetString());

        peer.Admission.SetResult(new MediaOutcome(MediaRefusal.MeetingFull, "full"));

        var demoted = await viewer.ExpectAsync("demoted");
        Assert.Equal("primary-full", demoted.GetProperty("reason").GetString());
        Assert.Equal(1, peer.Demotions);
        Assert.Null(peer.Promotion);

        // A replica attendee again: it may neither send nor demote, and may promote again.
        await viewer.SendAsync(new { type = "demote", id = "d" });
        Assert.Equal("not-allowed", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        peer.Admission = null;
        await viewer.SendAsync(new { type = "promote", id = "again", token = node.Keys.Token(primary, Guid.NewGuid(), "speaker-2") });
        Assert.Equal("again", (await viewer.ExpectAsync("promoted")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_late_refusal_of_an_earlier_promotion_does_not_undo_the_current_one()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;
        var peer = await node.Media.Meeting(replica).PeerAsync("viewer");
        var first = new TaskCompletionSource<MediaOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Admission = first;
        await viewer.SendAsync(new { type = "promote", id = "p1", token = node.Keys.Token(primary, Guid.NewGuid(), "speaker") });
        await viewer.ExpectAsync("promoted");
        await viewer.SendAsync(new { type = "demote", id = "d1" });
        Assert.Equal("requested", (await viewer.ExpectAsync("demoted")).GetProperty("reason").GetString());
        peer.Admission = null;
        await viewer.SendAsync(new { type = "promote", id = "p2", token = node.Keys.Token(primary, Guid.NewGuid(), "speaker-2") });
        await viewer.ExpectAsync("promoted");

        first.SetResult(new MediaOutcome(MediaRefusal.MeetingFull, "full"));
        await Task.Delay(500); // room for a wrong undo to reach the client first

        // Still promoted: a demote is its own, not a refusal's.
        await viewer.SendAsync(new { type = "demote", id = "d2" });
        var demoted = await viewer.ExpectAsync("demoted");
        Assert.Equal("d2", demoted.GetProperty("id").GetString());
        Assert.Equal("requested", demoted.GetProperty("reason").GetString());
        Assert.Equal(2, peer.Demotions);
    }

    [Fact]
    public async Task Deleting_the_promotion_attendee_demotes_the_replica_session()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (presenter, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = presenter;
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;
        var speaker = Guid.NewGuid();
        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(primary, speaker, "speaker") });
        await viewer.ExpectAsync("promoted");

        await node.PublishAsync(new AttendeeDeleted(primary, speaker, "speaker", DateTimeOffset.UtcNow));

        Assert.Equal("attendee-deleted", (await viewer.ExpectAsync("demoted")).GetProperty("reason").GetString());
        Assert.Equal(speaker, (await presenter.ExpectAsync("attendee-left")).GetProperty("attendeeId").GetGuid());
    }

    [Fact]
    public async Task Disconnect_of_a_promoted_session_removes_it_from_the_primary()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (presenter, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = presenter;
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        var speaker = Guid.NewGuid();
        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(primary, speaker, "speaker") });
        await viewer.ExpectAsync("promoted");
        await presenter.ExpectAsync("attendee-joined");

        await viewer.DisposeAsync();

        Assert.Equal(speaker, (await presenter.ExpectAsync("attendee-left")).GetProperty("attendeeId").GetGuid());
    }
}
