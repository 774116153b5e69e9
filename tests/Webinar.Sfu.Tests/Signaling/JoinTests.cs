using System.Net.WebSockets;
using System.Security.Cryptography;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

[Collection(SfuNodeCollection.Name)]
public sealed class JoinTests(SfuNodeFixture node)
{
    [Fact]
    public async Task Valid_join_is_answered_with_joined()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", id = "j1", token = node.Keys.Token(meeting, attendee, "alice") });

        var joined = await client.ExpectAsync("joined");

        Assert.Equal("j1", joined.GetProperty("id").GetString());
        Assert.Equal(meeting, joined.GetProperty("meetingId").GetGuid());
        Assert.Equal(attendee, joined.GetProperty("attendeeId").GetGuid());
        Assert.Equal("alice", joined.GetProperty("externalUserId").GetString());
        Assert.Equal("primary", joined.GetProperty("role").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, joined.GetProperty("primaryMeetingId").ValueKind);
        Assert.True(joined.GetProperty("canPublish").GetProperty("video").GetBoolean());
        Assert.Equal(0, joined.GetProperty("attendees").GetArrayLength());
        Assert.Equal(0, joined.GetProperty("streams").GetArrayLength());
        Assert.Equal(0, joined.GetProperty("iceServers").GetArrayLength());
    }

    [Fact]
    public async Task Joined_hands_out_the_turn_servers_the_token_carries()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var turn = Webinar.Contracts.Turn.TurnCredentials.Mint("secret", ["turn:192.0.2.7:3478?transport=udp", "turns:192.0.2.7:5349?transport=tcp"], attendee, now.AddHours(1));
        var token = node.Keys.Signer.Sign(new JoinTokenClaims(meeting, attendee, "alice", null, AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1), [turn]));
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", token });

        var joined = await client.ExpectAsync("joined");

        var server = Assert.Single(joined.GetProperty("iceServers").EnumerateArray().ToArray());
        Assert.Equal(turn.Urls, server.GetProperty("urls").EnumerateArray().Select(u => u.GetString()!).ToArray());
        Assert.Equal(turn.Username, server.GetProperty("username").GetString());
        Assert.Equal(turn.Credential, server.GetProperty("credential").GetString());
    }

    [Fact]
    public async Task Token_signed_by_another_key_is_refused_with_invalid_token()
    {
        var meeting = await node.CreateMeetingAsync();
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var forged = new JoinTokenSigner(otherKey).Sign(new JoinTokenClaims(meeting, Guid.NewGuid(), "mallory", null, AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1)));

        await AssertRefusedAsync(forged, "invalid-token", 4002);
    }

    [Fact]
    public async Task Tampered_token_is_refused_with_invalid_token()
    {
        var meeting = await node.CreateMeetingAsync();
        var token = node.Keys.Token(meeting, Guid.NewGuid(), "bob");
        var tampered = token[..^3] + (token[^3] == 'A' ? "B" : "A") + token[^2..];

        await AssertRefusedAsync(tampered, "invalid-token", 4002);
    }

    [Fact]
    public async Task Expired_token_is_refused_with_token_expired()
    {
        var meeting = await node.CreateMeetingAsync();
        var token = node.Keys.Token(meeting, Guid.NewGuid(), "carol", validFor: TimeSpan.FromMinutes(-5));

        await AssertRefusedAsync(token, "token-expired", 4002);
    }

    [Fact]
    public async Task Token_of_a_meeting_placed_on_another_node_is_refused_with_wrong_meeting_node()
    {
        var meeting = await node.CreateMeetingAsync(nodeId: "eu-west-1-elsewhere");

        await AssertRefusedAsync(node.Keys.Token(meeting, Guid.NewGuid(), "dave"), "wrong-meeting-node", 4003);
    }

    [Fact]
    public async Task Token_of_an_unknown_meeting_is_refused_after_the_placement_wait()
    {
        await AssertRefusedAsync(node.Keys.Token(Guid.NewGuid(), Guid.NewGuid(), "erin"), "wrong-meeting-node", 4003);
    }

    [Fact]
    public async Task Join_that_arrives_before_the_meetings_placement_is_admitted_once_the_placement_arrives()
    {
        var meeting = Guid.NewGuid();
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", id = "early", token = node.Keys.Token(meeting, Guid.NewGuid(), "ivan") });
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        await node.PublishAsync(new MeetingCreated(meeting, null, SfuNodeFixture.Region, node.NodeId, 250, DateTimeOffset.UtcNow));

        var joined = await client.ExpectAsync("joined");
        Assert.Equal("early", joined.GetProperty("id").GetString());
        Assert.Equal(meeting, joined.GetProperty("meetingId").GetGuid());
    }

    [Fact]
    public async Task Replica_token_used_on_the_primary_is_refused()
    {
        var primary = await node.CreateMeetingAsync();
        await AssertRefusedAsync(node.Keys.Token(primary, Guid.NewGuid(), "frank", primaryMeetingId: Guid.NewGuid()), "invalid-token", 4002);
    }

    [Fact]
    public async Task First_frame_that_is_not_a_join_closes_the_connection()
    {
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "offer", sdp = "v=0" });

        var frames = await client.ReadUntilClosedAsync();

        Assert.Equal("not-joined", Assert.Single(frames).GetProperty("code").GetString());
        Assert.Equal((WebSocketCloseStatus)4000, client.CloseStatus);
    }

    [Fact]
    public async Task Connection_without_a_join_is_closed_after_the_join_timeout()
    {
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);

        var frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("join-timeout", Assert.Single(frames).GetProperty("code").GetString());
        Assert.Equal((WebSocketCloseStatus)4001, client.CloseStatus);
    }

    [Fact]
    public async Task Second_join_of_the_same_attendee_replaces_the_first_connection()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        var (first, _) = await node.JoinAsync(meeting, attendee, "grace");
        await using var _1 = first;
        var (second, _) = await node.JoinAsync(meeting, attendee, "grace");
        await using var _2 = second;

        var frames = await first.ReadUntilClosedAsync();

        var disconnected = Assert.Single(frames, f => f.GetProperty("type").GetString() == "disconnected");
        Assert.Equal("replaced", disconnected.GetProperty("reason").GetString());
        Assert.Equal((WebSocketCloseStatus)4005, first.CloseStatus);
        Assert.Equal(WebSocketState.Open, second.State);
    }

    [Fact]
    public async Task Second_join_on_a_joined_connection_is_an_error_and_the_session_stays()
    {
        var meeting = await node.CreateMeetingAsync();
        var attendee = Guid.NewGuid();
        var (client, _) = await node.JoinAsync(meeting, attendee, "heidi");
        await using var _1 = client;

        await client.SendAsync(new { type = "join", id = 7, token = node.Keys.Token(meeting, attendee, "heidi") });
        var error = await client.ExpectAsync("error");

        Assert.Equal("already-joined", error.GetProperty("code").GetString());
        Assert.Equal(7, error.GetProperty("id").GetInt32());
        await client.SendAsync(new { type = "offer", sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n" });
        await client.ExpectAsync("answer");
    }

    [Fact]
    public async Task Meeting_accepts_250_connections_and_refuses_the_251st_with_meeting_full()
    {
        var meeting = await node.CreateMeetingAsync(maxAttendees: 250);
        var clients = new List<SignalingClient>();
        try
        {
            var joins = Enumerable.Range(0, 251).Select(async i =>
            {
                var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
                lock (clients)
                {
                    clients.Add(client);
                }

                await client.SendAsync(new { type = "join", token = node.Keys.Token(meeting, Guid.NewGuid(), "user-" + i) });
                var first = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
                return first!.Value.GetProperty("type").GetString() == "joined" ? "joined" : first.Value.GetProperty("code").GetString();
            });

            var outcomes = await Task.WhenAll(joins);

            Assert.Equal(250, outcomes.Count(o => o == "joined"));
            Assert.Equal("meeting-full", Assert.Single(outcomes, o => o != "joined"));
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    private async Task AssertRefusedAsync(string token, string code, int closeCode)
    {
        await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", id = "x", token });

        var frames = await client.ReadUntilClosedAsync();

        var error = Assert.Single(frames);
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("x", error.GetProperty("id").GetString());
        Assert.Equal((WebSocketCloseStatus)closeCode, client.CloseStatus);
    }
}
