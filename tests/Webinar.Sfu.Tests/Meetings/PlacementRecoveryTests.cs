using System.Net.WebSockets;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Bus;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Meetings;

/// <summary>
/// A node that missed placement events (it did not exist yet, or restarted) learns them from the real control plane
/// over the real RabbitMQ. Each test uses a region of its own, so the control plane places its meetings on the node
/// the test means whatever other test's node is still heartbeating.
/// </summary>
public sealed class PlacementRecoveryTests(ControlPlaneNodeFixture fixture) : IClassFixture<ControlPlaneNodeFixture>
{
    [Fact]
    public async Task Node_started_after_its_meeting_was_created_admits_a_join_for_it()
    {
        var nodeId = "us-east-1-late-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.AnnounceNodeAsync(nodeId, "us-east-1");
        var meeting = await fixture.CreateMeetingAsync("us-east-1");
        var created = await fixture.Recorder.WaitForAsync<MeetingCreated>(m => m.MeetingId == meeting);
        Assert.Equal(nodeId, created.NodeId);
        var (attendee, token) = await fixture.CreateAttendeeAsync(meeting, "late-viewer");

        await using var node = await fixture.StartNodeAsync(nodeId, "us-east-1");
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", token });
        var joined = await client.ExpectAsync("joined");

        Assert.Equal(meeting, joined.GetProperty("meetingId").GetGuid());
        Assert.Equal(attendee, joined.GetProperty("attendeeId").GetGuid());
    }

    [Fact]
    public async Task Restarted_node_restores_its_meetings_before_anyone_rejoins()
    {
        var nodeId = "ap-southeast-1-r-" + Guid.NewGuid().ToString("N")[..6];
        var first = await fixture.StartNodeAsync(nodeId, "ap-southeast-1");
        await fixture.WaitForNodeRowAsync(nodeId);
        var primary = await fixture.CreateMeetingAsync("ap-southeast-1");
        var replica = await fixture.CreateMeetingAsync("ap-southeast-1", primary);
        await WaitUntilAsync(() => first.Service<MeetingDirectory>().Find(replica) is not null, "the first node learnt the replica");
        await first.DisposeAsync();

        await using var restarted = await fixture.StartNodeAsync(nodeId, "ap-southeast-1");
        await restarted.Service<PlacementRestore>().Restored.WaitAsync(TimeSpan.FromSeconds(20));

        var directory = restarted.Service<MeetingDirectory>();
        Assert.Equal(primary, directory.Find(replica)?.PrimaryMeetingId);
        Assert.Equal(nodeId, directory.Find(primary)?.NodeId);

        // Both rooms, and so the replica's media (its relay from the primary), are open again without any join.
        Assert.True(restarted.Media.Meetings.ContainsKey(primary));
        Assert.Equal(primary, restarted.Media.Meeting(replica).Placement.PrimaryMeetingId);
    }

    [Fact]
    public async Task Token_of_an_unknown_meeting_is_still_refused_with_wrong_meeting_node()
    {
        var nodeId = "eu-west-1-u-" + Guid.NewGuid().ToString("N")[..6];
        await using var node = await fixture.StartNodeAsync(nodeId, "eu-west-1");
        await node.Service<PlacementRestore>().Restored.WaitAsync(TimeSpan.FromSeconds(20));

        var frames = await JoinAndReadUntilClosedAsync(node, fixture.Token(Guid.NewGuid(), Guid.NewGuid(), "nobody"));

        Assert.Equal("wrong-meeting-node", Assert.Single(frames).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Meeting_placed_on_another_node_that_this_node_never_heard_of_is_refused_with_wrong_meeting_node()
    {
        var otherNode = "sa-east-1-o-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.AnnounceNodeAsync(otherNode, "sa-east-1");
        var meeting = await fixture.CreateMeetingAsync("sa-east-1");
        await fixture.Recorder.WaitForAsync<MeetingCreated>(m => m.MeetingId == meeting && m.NodeId == otherNode);
        var (_, token) = await fixture.CreateAttendeeAsync(meeting, "misrouted");

        await using var node = await fixture.StartNodeAsync("ca-central-1-m-" + Guid.NewGuid().ToString("N")[..6], "ca-central-1");
        var frames = await JoinAndReadUntilClosedAsync(node, token);

        Assert.Equal("wrong-meeting-node", Assert.Single(frames).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Deleted_attendees_token_is_refused_after_a_node_restart()
    {
        var nodeId = "eu-central-1-d-" + Guid.NewGuid().ToString("N")[..6];
        var first = await fixture.StartNodeAsync(nodeId, "eu-central-1");
        await fixture.WaitForNodeRowAsync(nodeId);
        var meeting = await fixture.CreateMeetingAsync("eu-central-1");
        var (deleted, deletedToken) = await fixture.CreateAttendeeAsync(meeting, "deleted-user");
        var (_, keptToken) = await fixture.CreateAttendeeAsync(meeting, "kept-user");

        // The first node process sees the deletion (and forgets it when it stops).
        await fixture.DeleteAttendeeAsync(meeting, deleted);
        await WaitUntilAsync(() => first.Service<RevokedAttendees>().IsRevoked(deleted), "the first node revoked the attendee");
        await first.DisposeAsync();

        await using var restarted = await fixture.StartNodeAsync(nodeId, "eu-central-1");
        var refused = await JoinAndReadUntilClosedAsync(restarted, deletedToken);
        Assert.Equal("token-revoked", Assert.Single(refused).GetProperty("code").GetString());

        await using var kept = await SignalingClient.ConnectAsync(restarted.SignalingUrl);
        await kept.SendAsync(new { type = "join", token = keptToken });
        Assert.Equal(meeting, (await kept.ExpectAsync("joined")).GetProperty("meetingId").GetGuid());
    }

    [Fact]
    public async Task Asking_for_a_replica_learns_its_primarys_node_and_revoked_attendees()
    {
        var primaryNode = "sa-east-1-p-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.AnnounceNodeAsync(primaryNode, "sa-east-1");
        var primary = await fixture.CreateMeetingAsync("sa-east-1");
        var (presenter, _) = await fixture.CreateAttendeeAsync(primary, "presenter");
        await fixture.DeleteAttendeeAsync(primary, presenter);
        await using var node = await fixture.StartNodeAsync("eu-west-1-q-" + Guid.NewGuid().ToString("N")[..6], "eu-west-1");
        await node.Service<PlacementRestore>().Restored.WaitAsync(TimeSpan.FromSeconds(20));
        var replica = await fixture.CreateMeetingAsync("eu-west-1", primary);

        var placed = await node.Service<PlacementClient>().ResolveAsync(replica, CancellationToken.None);

        Assert.NotNull(placed);
        Assert.Equal(primary, placed.PrimaryMeetingId);
        Assert.Equal(primaryNode, placed.PrimaryNodeId);
        Assert.Null(await node.Service<PlacementClient>().ResolveAsync(Guid.NewGuid(), CancellationToken.None));

        // The primary is learnt too, with its revoked presenter, for later promotions on this node.
        await WaitUntilAsync(() => node.Service<RevokedAttendees>().IsRevoked(presenter), "the primary's revocation was learnt");
        Assert.Equal(primaryNode, node.Service<MeetingDirectory>().Find(primary)?.NodeId);
    }

    private static async Task<List<System.Text.Json.JsonElement>> JoinAndReadUntilClosedAsync(RunningNode node, string token)
    {
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", token });
        var frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(15));
        Assert.NotEqual(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        return frames;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting until " + what);
            }

            await Task.Delay(50);
        }
    }
}
