using System.Text.Json;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

[Collection(SfuNodeCollection.Name)]
public sealed class PresenceTests(SfuNodeFixture node)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task Primary_attendees_see_each_other_join_and_leave()
    {
        var meeting = await node.CreateMeetingAsync();
        var alice = Guid.NewGuid();
        var bob = Guid.NewGuid();
        var (a, _) = await node.JoinAsync(meeting, alice, "alice");
        await using var _a = a;
        var (b, bobJoined) = await node.JoinAsync(meeting, bob, "bob");

        var seenByAlice = await a.ExpectAsync("attendee-joined");
        Assert.Equal(bob, seenByAlice.GetProperty("attendeeId").GetGuid());
        Assert.Equal("bob", seenByAlice.GetProperty("externalUserId").GetString());
        var listed = Assert.Single(bobJoined.GetProperty("attendees").EnumerateArray());
        Assert.Equal(alice, listed.GetProperty("attendeeId").GetGuid());

        await b.SendAsync(new { type = "leave" });
        await b.ReadUntilClosedAsync();
        await b.DisposeAsync();

        var left = await a.ExpectAsync("attendee-left");
        Assert.Equal(bob, left.GetProperty("attendeeId").GetGuid());
    }

    [Fact]
    public async Task Replica_attendee_sees_primary_attendees_and_never_another_replica_attendee()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var otherReplica = await node.CreateReplicaAsync(primary);
        var presenter = Guid.NewGuid();
        var (p, _) = await node.JoinAsync(primary, presenter, "presenter");
        await using var _p = p;

        var (r1, r1Joined) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer-1", primary);
        await using var _r1 = r1;
        Assert.Equal("replica", r1Joined.GetProperty("role").GetString());
        Assert.Equal(primary, r1Joined.GetProperty("primaryMeetingId").GetGuid());
        Assert.False(r1Joined.GetProperty("canPublish").GetProperty("audio").GetBoolean());
        Assert.Equal(presenter, Assert.Single(r1Joined.GetProperty("attendees").EnumerateArray()).GetProperty("attendeeId").GetGuid());

        var (r2, r2Joined) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer-2", primary);
        await using var _r2 = r2;
        var (r3, _) = await node.JoinAsync(otherReplica, Guid.NewGuid(), "viewer-3", primary);
        await using var _r3 = r3;
        Assert.Equal(presenter, Assert.Single(r2Joined.GetProperty("attendees").EnumerateArray()).GetProperty("attendeeId").GetGuid());

        // A second presenter joins: every replica attendee sees it; nobody sees the replica attendees.
        var second = Guid.NewGuid();
        var (p2, _) = await node.JoinAsync(primary, second, "presenter-2");
        await using var _p2 = p2;
        Assert.Equal(second, (await r1.ExpectAsync("attendee-joined")).GetProperty("attendeeId").GetGuid());
        Assert.Equal(second, (await r3.ExpectAsync("attendee-joined")).GetProperty("attendeeId").GetGuid());

        var r1Frames = await r1.CollectAsync(Quiet);
        Assert.DoesNotContain(r1Frames, IsPresence);
        var r2Frames = await r2.CollectAsync(Quiet);
        Assert.All(r2Frames.Where(IsPresence), f => Assert.Equal(second, f.GetProperty("attendeeId").GetGuid()));
    }

    [Fact]
    public async Task Primary_attendee_never_sees_replica_attendees()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (p, _) = await node.JoinAsync(primary, Guid.NewGuid(), "presenter");
        await using var _p = p;

        var (r, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await r.SendAsync(new { type = "leave" });
        await r.ReadUntilClosedAsync();
        await r.DisposeAsync();

        var frames = await p.CollectAsync(Quiet);
        Assert.DoesNotContain(frames, IsPresence);
    }

    [Fact]
    public async Task Offer_is_answered_with_slots_and_streams_reach_everyone_but_their_publisher()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var presenter = Guid.NewGuid();
        var (p, _) = await node.JoinAsync(primary, presenter, "presenter");
        await using var _p = p;
        var (other, _) = await node.JoinAsync(primary, Guid.NewGuid(), "other");
        await using var _o = other;
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;

        var video = new MediaStreamInfo("v-1", presenter, "presenter", MediaKind.Video);
        node.Media.Meeting(primary).Publish(video);
        node.Media.Meeting(replica).Publish(video);

        var added = await other.ExpectAsync("stream-added");
        Assert.Equal("v-1", added.GetProperty("streamId").GetString());
        Assert.Equal("video", added.GetProperty("kind").GetString());
        Assert.Equal(presenter, added.GetProperty("attendeeId").GetGuid());
        Assert.Equal("v-1", (await viewer.ExpectAsync("stream-added")).GetProperty("streamId").GetString());
        Assert.DoesNotContain(await p.CollectAsync(Quiet), f => f.GetProperty("type").GetString() == "stream-added");

        await viewer.SendAsync(new { type = "offer", id = "o1", sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\n" });
        var answer = await viewer.ExpectAsync("answer");
        Assert.Equal("o1", answer.GetProperty("id").GetString());
        var slot = Assert.Single(answer.GetProperty("slots").EnumerateArray());
        Assert.Equal("0", slot.GetProperty("mid").GetString());
        Assert.Equal("v-1", slot.GetProperty("streamId").GetString());

        // Renegotiation requested by the media plane reaches the client.
        (await node.Media.Meeting(replica).PeerAsync("viewer")).Listener.OnRenegotiationNeeded(1, 2);
        var renegotiate = await viewer.ExpectAsync("renegotiate");
        Assert.Equal(2, renegotiate.GetProperty("video").GetInt32());

        // A late joiner gets the stream in its joined snapshot; removal reaches the others.
        var (late, lateJoined) = await node.JoinAsync(primary, Guid.NewGuid(), "late");
        await using var _l = late;
        Assert.Equal("v-1", Assert.Single(lateJoined.GetProperty("streams").EnumerateArray()).GetProperty("streamId").GetString());
        node.Media.Meeting(primary).Unpublish(video);
        Assert.Equal("v-1", (await late.ExpectAsync("stream-removed")).GetProperty("streamId").GetString());
    }

    [Fact]
    public async Task Replica_attendee_offering_to_send_is_refused_with_not_allowed()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (viewer, _) = await node.JoinAsync(replica, Guid.NewGuid(), "viewer", primary);
        await using var _v = viewer;

        await viewer.SendAsync(new { type = "offer", sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=msid:s t\r\n" });
        var error = await viewer.ExpectAsync("error");

        Assert.Equal("not-allowed", error.GetProperty("code").GetString());
        await viewer.SendAsync(new { type = "offer", sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\n" });
        await viewer.ExpectAsync("answer");
    }

    private static bool IsPresence(JsonElement f) => f.GetProperty("type").GetString() is "attendee-joined" or "attendee-left";
}
