using System.Net.WebSockets;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

[Collection(SfuNodeCollection.Name)]
public sealed class LifecycleTests(SfuNodeFixture node)
{
    [Fact]
    public async Task AttendeeDeleted_disconnects_the_live_session_and_revokes_its_token()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        var (client, _) = await node.JoinAsync(meeting, attendee, "ivan");
        await using var _c = client;

        await node.PublishAsync(new AttendeeDeleted(meeting, attendee, "ivan", DateTimeOffset.UtcNow));
        var frames = await client.ReadUntilClosedAsync();

        var disconnected = Assert.Single(frames, f => f.GetProperty("type").GetString() == "disconnected");
        Assert.Equal("attendee-deleted", disconnected.GetProperty("reason").GetString());
        Assert.Equal((WebSocketCloseStatus)4006, client.CloseStatus);

        await using var again = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await again.SendAsync(new { type = "join", token = node.Keys.Token(meeting, attendee, "ivan") });
        var refused = Assert.Single(await again.ReadUntilClosedAsync());
        Assert.Equal("token-revoked", refused.GetProperty("code").GetString());
    }

    [Fact]
    public async Task MeetingDeleted_sends_meeting_ended_to_primary_and_replica_sessions()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (p, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = p;
        var (r, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _r = r;

        await node.PublishAsync(new MeetingDeleted(primary, null, [replica], MeetingDeletionReason.Idle, DateTimeOffset.UtcNow));

        foreach (var client in new[] { p, r })
        {
            var ended = Assert.Single(await client.ReadUntilClosedAsync(), f => f.GetProperty("type").GetString() == "meeting-ended");
            Assert.Equal("idle", ended.GetProperty("reason").GetString());
            Assert.Equal((WebSocketCloseStatus)4007, client.CloseStatus);
        }

        await using var late = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await late.SendAsync(new { type = "join", token = node.Keys.Token(primary, Guid.NewGuid(), "late") });
        Assert.Equal("wrong-meeting-node", Assert.Single(await late.ReadUntilClosedAsync()).GetProperty("code").GetString());
        await WaitUntilAsync(() => node.Media.Meeting(primary).Disposed && node.Media.Meeting(replica).Disposed);
    }

    [Fact]
    public async Task AttendeeJoined_and_AttendeeLeft_are_published_for_every_connection()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        var (client, _) = await node.JoinAsync(meeting, attendee, "judy");

        var joined = await node.Recorder.WaitForAsync<AttendeeJoined>(e => e.AttendeeId == attendee);
        Assert.Equal(meeting, joined.MeetingId);
        Assert.Equal(node.NodeId, joined.NodeId);
        Assert.Equal("judy", joined.ExternalUserId);

        var heartbeat = await node.Recorder.WaitForAsync<NodeHeartbeat>(h => h.Meetings.Any(m => m.MeetingId == meeting && m.Connections == 1));
        Assert.Equal(node.NodeId, heartbeat.NodeId);
        Assert.Equal(SfuNodeFixture.Region, heartbeat.Region);
        Assert.Equal($"ws://127.0.0.1:{node.Port}/signal", heartbeat.SignalingUrl);
        Assert.True(heartbeat.Load >= 1);

        await client.SendAsync(new { type = "leave" });
        await client.ReadUntilClosedAsync();
        await client.DisposeAsync();

        var left = await node.Recorder.WaitForAsync<AttendeeLeft>(e => e.AttendeeId == attendee);
        Assert.Equal(joined.ConnectionId, left.ConnectionId);
        Assert.Equal("left", left.Reason);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached");
            await Task.Delay(20);
        }
    }
}
