using System.Net.WebSockets;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

/// <summary>The signalling side of pre-negotiated slots (docs/signaling.md), over the node's real WebSocket.</summary>
[Collection(SfuNodeCollection.Name)]
public sealed class PreNegotiateTests(SfuNodeFixture node)
{
    private const string SendSlotOffer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=msid:s t\r\n";

    [Fact]
    public async Task A_pre_negotiating_replica_attendee_is_told_its_spare_slots_and_may_offer_send_slots()
    {
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        await using var viewer = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await viewer.SendAsync(new { type = "join", token = node.Keys.Token(replica, Guid.NewGuid(), "viewer", primary), preNegotiate = true });

        var joined = await viewer.ExpectAsync("joined");
        Assert.True(joined.GetProperty("preNegotiated").GetBoolean());
        Assert.Equal(2, joined.GetProperty("spareSlots").GetInt32());

        await viewer.SendAsync(new { type = "offer", sdp = SendSlotOffer });
        await viewer.ExpectAsync("answer");
        var peer = await node.Media.Meeting(replica).PeerAsync("viewer");
        Assert.True(peer.Peer.PreNegotiated);
    }

    [Fact]
    public async Task A_join_without_pre_negotiation_says_nothing_of_spare_slots()
    {
        var meeting = await node.CreateMeetingAsync();
        var (client, joined) = await node.JoinAsync(meeting, Guid.NewGuid(), "alice");
        await using var _ = client;

        Assert.False(joined.TryGetProperty("preNegotiated", out var _p));
        Assert.False(joined.TryGetProperty("spareSlots", out var _s));
    }

    [Fact]
    public async Task A_stream_placed_on_a_spare_slot_reaches_the_client_as_a_slots_frame()
    {
        var meeting = await node.CreateMeetingAsync();
        await using var viewer = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await viewer.SendAsync(new { type = "join", token = node.Keys.Token(meeting, Guid.NewGuid(), "viewer"), preNegotiate = true });
        await viewer.ExpectAsync("joined");
        var peer = await node.Media.Meeting(meeting).PeerAsync("viewer");

        var speaker = Guid.NewGuid();
        peer.Listener.OnSlotsChanged([new MediaSlot("3", new MediaStreamInfo("s-video-1", speaker, "speaker", MediaKind.Video))]);

        var slots = await viewer.ExpectAsync("slots");
        var slot = Assert.Single(slots.GetProperty("slots").EnumerateArray());
        Assert.Equal("3", slot.GetProperty("mid").GetString());
        Assert.Equal("s-video-1", slot.GetProperty("streamId").GetString());
        Assert.Equal(speaker, slot.GetProperty("attendeeId").GetGuid());
        Assert.Equal("video", slot.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_pre_negotiate_that_is_not_a_boolean_is_a_bad_request_before_join()
    {
        var meeting = await node.CreateMeetingAsync();
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", token = node.Keys.Token(meeting, Guid.NewGuid(), "alice"), preNegotiate = "yes" });

        var frames = await client.ReadUntilClosedAsync();

        Assert.Equal("bad-request", Assert.Single(frames).GetProperty("code").GetString());
        Assert.Equal((WebSocketCloseStatus)4000, client.CloseStatus);
    }
}
