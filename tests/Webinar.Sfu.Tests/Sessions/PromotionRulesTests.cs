using System.Text.Json;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Sessions;

/// <summary>Promotion on one node: one place per primary attendee, and a demoted client never sees itself.</summary>
[Collection(SfuNodeCollection.Name)]
public sealed class PromotionRulesTests(SfuNodeFixture node)
{
    [Fact]
    public async Task A_demoted_client_gets_no_frame_about_itself_and_others_see_its_streams_go_before_it_leaves()
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
        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(primary, speaker, "speaker") });
        await viewer.ExpectAsync("promoted");
        await neighbour.ExpectAsync("attendee-joined");

        // The speaker's video, as the media plane shows it in the primary and in the replica.
        var peer = await node.Media.Meeting(replica).PeerAsync("viewer");
        var stream = new MediaStreamInfo("speaker-video", speaker, "speaker", MediaKind.Video);
        foreach (var meeting in new[] { node.Media.Meeting(primary), node.Media.Meeting(replica) })
        {
            meeting.Publish(stream);
            peer.PromotedStreams.Add((meeting, stream));
        }

        await neighbour.ExpectAsync("stream-added");
        await presenter.ExpectAsync("stream-added");

        await viewer.SendAsync(new { type = "demote", id = "d" });
        var viewerFrames = await viewer.ReadThroughAsync("demoted");
        var neighbourFrames = await neighbour.ReadThroughAsync("attendee-left");

        Assert.DoesNotContain(viewerFrames.Concat(await viewer.CollectAsync(TimeSpan.FromSeconds(1))), f => IsAbout(f, speaker));
        Assert.Contains(neighbourFrames, f => f.GetProperty("type").GetString() == "stream-removed" && IsAbout(f, speaker));
        Assert.Equal(speaker, neighbourFrames[^1].GetProperty("attendeeId").GetGuid());
    }

    [Fact]
    public async Task A_primary_attendee_holds_one_place_whether_joined_or_promoted()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;
        var speaker = Guid.NewGuid();
        await viewer.SendAsync(new { type = "promote", token = node.Keys.Token(primary, speaker, "speaker") });
        await viewer.ExpectAsync("promoted");

        // Promoted: a direct join with the same attendee is refused rather than connecting it twice.
        await using var direct = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await direct.SendAsync(new { type = "join", token = node.Keys.Token(primary, speaker, "speaker") });
        Assert.Equal("already-connected", (await direct.ExpectAsync("error")).GetProperty("code").GetString());
        Assert.Null(await direct.ReceiveAsync());
        Assert.Equal(4011, (int?)direct.CloseStatus);

        // Joined directly: a promotion as that attendee is refused with the same code.
        var presenterId = Guid.NewGuid();
        var (presenter, _) = await node.JoinAsync(primary, presenterId, "presenter");
        await using var _p = presenter;
        var (other, _) = await node.JoinAsync(replica, Guid.NewGuid(), "other", primary);
        await using var _o = other;
        await other.SendAsync(new { type = "promote", token = node.Keys.Token(primary, presenterId, "presenter") });
        Assert.Equal("already-connected", (await other.ExpectAsync("error")).GetProperty("code").GetString());

        // A second promotion as the promoted attendee, from another replica session, too.
        await other.SendAsync(new { type = "promote", token = node.Keys.Token(primary, speaker, "speaker") });
        Assert.Equal("already-connected", (await other.ExpectAsync("error")).GetProperty("code").GetString());
    }

    private static bool IsAbout(JsonElement frame, Guid attendee) =>
        frame.GetProperty("type").GetString() is "attendee-left" or "attendee-joined" or "stream-removed" or "stream-added"
        && frame.GetRawText().Contains(attendee.ToString(), StringComparison.OrdinalIgnoreCase);
}
