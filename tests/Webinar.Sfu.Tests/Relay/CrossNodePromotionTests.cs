using System.Text.Json;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Relay;

/// <summary>
/// The real control plane and two SFU node hosts with the real media plane and relay (each its own UDP media socket and
/// bus connection): the primary's node in us-east-1 and a replica's node in eu-west-1.
/// </summary>
public sealed class TwoNodeFixture : IAsyncLifetime
{
    public ControlPlaneNodeFixture ControlPlane { get; } = new();

    internal RunningNode PrimaryNode { get; private set; } = null!;

    internal RunningNode ReplicaNode { get; private set; } = null!;

    public string PrimaryNodeId { get; } = "us-east-1-x" + Guid.NewGuid().ToString("N")[..6];

    public string ReplicaNodeId { get; } = "eu-west-1-x" + Guid.NewGuid().ToString("N")[..6];

    public async Task InitializeAsync()
    {
        await ControlPlane.InitializeAsync();
        PrimaryNode = await ControlPlane.StartNodeAsync(PrimaryNodeId, "us-east-1", realMedia: true);
        ReplicaNode = await ControlPlane.StartNodeAsync(ReplicaNodeId, "eu-west-1", realMedia: true);
        await ControlPlane.WaitForHealthyNodeAsync(PrimaryNodeId);
        await ControlPlane.WaitForHealthyNodeAsync(ReplicaNodeId);
    }

    public async Task DisposeAsync()
    {
        await ReplicaNode.DisposeAsync();
        await PrimaryNode.DisposeAsync();
        await ControlPlane.DisposeAsync();
    }
}

/// <summary>A replica attendee on one node promoted into a primary on another.</summary>
public sealed class CrossNodePromotionTests(TwoNodeFixture fixture) : IClassFixture<TwoNodeFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private ControlPlaneNodeFixture Cp => fixture.ControlPlane;

    [Fact]
    public async Task Deleting_the_primary_attendee_of_a_promotion_on_another_node_demotes_it_everywhere()
    {
        var (primary, replica) = await CreateWebinarAsync();
        await using var presenter = await JoinAsync(fixture.PrimaryNode, primary, "presenter");
        await using var viewer = await JoinAsync(fixture.ReplicaNode, replica, "viewer");
        await using var neighbour = await JoinAsync(fixture.ReplicaNode, replica, "neighbour");
        var (speaker, speakerToken) = await Cp.CreateAttendeeAsync(primary, "speaker");
        await PromoteAsync(viewer, speakerToken);
        // Presence of others (the presenter, relayed to the replica) may arrive in between: wait for the speaker's.
        bool IsSpeaker(System.Text.Json.JsonElement f) => f.GetProperty("attendeeId").GetGuid() == speaker;
        await presenter.ExpectAsync("attendee-joined", IsSpeaker, Wait);
        await neighbour.ExpectAsync("attendee-joined", IsSpeaker, Wait);

        await Cp.DeleteAttendeeAsync(primary, speaker);

        Assert.Equal("attendee-deleted", (await viewer.ExpectAsync("demoted", Wait)).GetProperty("reason").GetString());
        await presenter.ExpectAsync("attendee-left", IsSpeaker, Wait);
        await neighbour.ExpectAsync("attendee-left", IsSpeaker, Wait);

        // The place is free again: another primary attendee can be promoted at once; the deleted one cannot.
        await viewer.SendAsync(new { type = "promote", id = "again", token = speakerToken });
        Assert.Equal("token-revoked", (await viewer.ExpectAsync("error", Wait)).GetProperty("code").GetString());
        var (_, secondToken) = await Cp.CreateAttendeeAsync(primary, "second-speaker");
        await PromoteAsync(viewer, secondToken);
    }

    [Fact]
    public async Task A_demoted_client_is_never_told_about_itself_and_its_audience_sees_it_leave()
    {
        var (primary, replica) = await CreateWebinarAsync();
        await using var presenter = await JoinAsync(fixture.PrimaryNode, primary, "presenter");
        await using var viewer = await JoinAsync(fixture.ReplicaNode, replica, "viewer");
        await using var neighbour = await JoinAsync(fixture.ReplicaNode, replica, "neighbour");
        var (speaker, speakerToken) = await Cp.CreateAttendeeAsync(primary, "speaker");
        await PromoteAsync(viewer, speakerToken);
        await neighbour.ExpectAsync("attendee-joined", Wait);

        await viewer.SendAsync(new { type = "demote", id = "d" });
        var untilDemoted = await viewer.ReadThroughAsync("demoted", Wait);
        Assert.Equal(speaker, (await neighbour.ExpectAsync("attendee-left", Wait)).GetProperty("attendeeId").GetGuid());
        Assert.Equal(speaker, (await presenter.ExpectAsync("attendee-left", Wait)).GetProperty("attendeeId").GetGuid());

        // The primary's leave has travelled round (presenter and neighbour saw it); nothing about itself reached the viewer.
        var after = await viewer.CollectAsync(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(untilDemoted.Concat(after), f => IsAbout(f, speaker));
    }

    [Fact]
    public async Task A_primary_attendee_promoted_on_another_node_cannot_also_join_the_primary_directly()
    {
        var (primary, replica) = await CreateWebinarAsync();
        await using var viewer = await JoinAsync(fixture.ReplicaNode, replica, "viewer");
        await using var neighbour = await JoinAsync(fixture.ReplicaNode, replica, "neighbour");
        var (speaker, speakerToken) = await Cp.CreateAttendeeAsync(primary, "speaker");
        await PromoteAsync(viewer, speakerToken);
        // promoted comes before the primary's node admits the attendee; its presence, relayed back, says it did.
        await neighbour.ExpectAsync("attendee-joined", f => f.GetProperty("attendeeId").GetGuid() == speaker, Wait);

        await using var direct = await SignalingClient.ConnectAsync(fixture.PrimaryNode.SignalingUrl);
        await direct.SendAsync(new { type = "join", id = "j", token = speakerToken });
        var error = await direct.ExpectAsync("error", Wait);

        Assert.Equal("already-connected", error.GetProperty("code").GetString());
        Assert.Equal(4011, (int?)(await WaitClosedAsync(direct)));

        // And the other way round: a primary attendee connected directly cannot be promoted into.
        var (_, presenterToken) = await Cp.CreateAttendeeAsync(primary, "presenter");
        await using var presenter = await JoinWithTokenAsync(fixture.PrimaryNode, presenterToken);
        await using var other = await JoinAsync(fixture.ReplicaNode, replica, "other-viewer");
        // Only the primary's node knows: the promotion it refuses is undone right after promoted.
        await PromoteAsync(other, presenterToken);
        Assert.Equal("already-connected", (await other.ExpectAsync("demoted", Wait)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_promoted_speaker_on_another_node_reaches_the_primarys_subscriber_once_admitted()
    {
        var (primary, replica) = await CreateWebinarAsync();
        var (_, presenterToken) = await Cp.CreateAttendeeAsync(primary, "presenter");
        await using var presenter = await MediaParticipant.JoinAsync(fixture.PrimaryNode.SignalingUrl, presenterToken, Wait);
        var (_, viewerToken) = await Cp.CreateAttendeeAsync(replica, "viewer");
        await using var viewer = await MediaParticipant.JoinAsync(fixture.ReplicaNode.SignalingUrl, viewerToken, Wait);
        var (speaker, speakerToken) = await Cp.CreateAttendeeAsync(primary, "speaker");
        viewer.StartSending();

        await PromoteAsync(viewer.Signaling, speakerToken);

        bool IsSpeaker(JsonElement f) => f.GetProperty("attendeeId").GetGuid() == speaker;
        await presenter.Signaling.ExpectAsync("attendee-joined", IsSpeaker, Wait);
        await presenter.Signaling.ExpectAsync("stream-added", IsSpeaker, Wait);
        await WaitUntilAsync(() => presenter.PacketsReceived > 10, "the speaker's audio never reached the primary's subscriber");
        var counters = fixture.PrimaryNode.Service<Webinar.Sfu.Media.NodeMediaPlane>().Node.Counters.Snapshot();
        Console.WriteLine($"primary's node: {counters.RtpNotAdmitted} RTP dropped before admission, {counters.UnknownSsrc} on unknown SSRCs");
    }

    [Fact]
    public async Task A_promotion_a_full_primary_on_another_node_refuses_is_undone_with_primary_full_and_reaches_none_of_its_subscribers()
    {
        // A primary that holds one connection, taken by its presenter (a subscriber with spare slots: any stream of the
        // primary would start on one at once).
        var primary = await Cp.CreateMeetingAsync("us-east-1", maxCount: 1);
        var replica = await Cp.CreateMeetingAsync("eu-west-1", primary);
        var (_, presenterToken) = await Cp.CreateAttendeeAsync(primary, "presenter");
        await using var presenter = await MediaParticipant.JoinAsync(fixture.PrimaryNode.SignalingUrl, presenterToken, Wait);
        var (_, viewerToken) = await Cp.CreateAttendeeAsync(replica, "viewer");
        await using var viewer = await MediaParticipant.JoinAsync(fixture.ReplicaNode.SignalingUrl, viewerToken, Wait);
        await using var neighbour = await JoinAsync(fixture.ReplicaNode, replica, "neighbour");
        // The control plane would refuse a second attendee of this primary: the platform's token for one, signed as it signs.
        var speaker = Guid.NewGuid();
        var speakerToken = Cp.Token(primary, speaker, "speaker");
        viewer.StartSending();

        // The replica's node answers at once and relays the speaker; the primary's node refuses: the promotion is undone.
        await PromoteAsync(viewer.Signaling, speakerToken);
        var demoted = await viewer.Signaling.ExpectAsync("demoted", Wait);
        Assert.Equal("primary-full", demoted.GetProperty("reason").GetString());
        Assert.False(demoted.TryGetProperty("id", out _), "the node's own demotion carries no request id");

        // Demoted for real: a replica attendee again, whose send m-lines may not publish.
        var neighbourFrames = await neighbour.ReadThroughAsync("stream-removed", Wait);
        Assert.Contains(neighbourFrames, f => f.GetProperty("type").GetString() == "stream-added" && f.GetRawText().Contains(speaker.ToString(), StringComparison.OrdinalIgnoreCase));

        // The primary's subscriber never heard of the speaker, and not one packet of it reached it.
        var presenterFrames = await presenter.Signaling.CollectAsync(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(presenterFrames, f => IsAbout(f, speaker) || f.GetProperty("type").GetString() == "slots");
        Assert.Equal(0, presenter.PacketsReceived);
        var counters = fixture.PrimaryNode.Service<Webinar.Sfu.Media.NodeMediaPlane>().Node.Counters.Snapshot();
        Console.WriteLine($"primary's node: {counters.RtpNotAdmitted} RTP dropped before admission, {counters.UnknownSsrc} on unknown SSRCs");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(50);
        }
    }

    private async Task<(Guid Primary, Guid Replica)> CreateWebinarAsync()
    {
        var primary = await Cp.CreateMeetingAsync("us-east-1");
        var replica = await Cp.CreateMeetingAsync("eu-west-1", primary);
        return (primary, replica);
    }

    private async Task<SignalingClient> JoinAsync(RunningNode node, Guid meeting, string user)
    {
        var (_, token) = await Cp.CreateAttendeeAsync(meeting, user);
        return await JoinWithTokenAsync(node, token);
    }

    private static async Task<SignalingClient> JoinWithTokenAsync(RunningNode node, string token)
    {
        var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
        await client.SendAsync(new { type = "join", id = "j", token });
        await client.ExpectAsync("joined", Wait);
        return client;
    }

    /// <summary>Promotes; the relay to the primary's node may still be coming up (media-unavailable), so it retries.</summary>
    private static async Task PromoteAsync(SignalingClient client, string token)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            await client.SendAsync(new { type = "promote", id = "p", token });
            var reply = await ExpectEitherAsync(client, "promoted", "error");
            if (reply.GetProperty("type").GetString() == "promoted")
            {
                return;
            }

            var code = reply.GetProperty("code").GetString();
            Assert.True(code == "media-unavailable" && DateTime.UtcNow < deadline, $"promote refused: {reply.GetRawText()}");
            await Task.Delay(250);
        }
    }

    private static async Task<JsonElement> ExpectEitherAsync(SignalingClient client, string first, string second)
    {
        while (true)
        {
            var frame = await client.ReceiveAsync(Wait) ?? throw new InvalidOperationException("closed");
            var type = frame.GetProperty("type").GetString();
            if (type == first || type == second)
            {
                return frame;
            }
        }
    }

    private static async Task<System.Net.WebSockets.WebSocketCloseStatus?> WaitClosedAsync(SignalingClient client)
    {
        while (await client.ReceiveAsync(Wait) is not null)
        {
        }

        return client.CloseStatus;
    }

    private static bool IsAbout(JsonElement frame, Guid attendee) =>
        frame.GetProperty("type").GetString() is "attendee-left" or "attendee-joined" or "stream-removed" or "stream-added"
        && frame.GetRawText().Contains(attendee.ToString(), StringComparison.OrdinalIgnoreCase);
}

/// <summary>Two nodes of their own: the replica's node starts only after the primary was created.</summary>
public sealed class LateReplicaNodeTests(ControlPlaneNodeFixture fixture) : IClassFixture<ControlPlaneNodeFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_replica_node_that_missed_the_primary_learns_it_and_lets_its_viewer_promote()
    {
        var primaryNodeId = "sa-east-1-p" + Guid.NewGuid().ToString("N")[..6];
        var replicaNodeId = "ca-central-1-r" + Guid.NewGuid().ToString("N")[..6];
        await using var primaryNode = await fixture.StartNodeAsync(primaryNodeId, "sa-east-1", realMedia: true);
        await fixture.WaitForHealthyNodeAsync(primaryNodeId);
        var primary = await fixture.CreateMeetingAsync("sa-east-1");

        // The replica's node did not exist when MeetingCreated went out: it only ever hears ReplicaCreated.
        await using var replicaNode = await fixture.StartNodeAsync(replicaNodeId, "ca-central-1", realMedia: true);
        await fixture.WaitForHealthyNodeAsync(replicaNodeId);
        var replica = await fixture.CreateMeetingAsync("ca-central-1", primary);
        var (_, viewerToken) = await fixture.CreateAttendeeAsync(replica, "viewer");
        await using var viewer = await SignalingClient.ConnectAsync(replicaNode.SignalingUrl);
        await viewer.SendAsync(new { type = "join", token = viewerToken });
        await viewer.ExpectAsync("joined", Wait);
        var (_, speakerToken) = await fixture.CreateAttendeeAsync(primary, "speaker");

        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            await viewer.SendAsync(new { type = "promote", id = "p", token = speakerToken });
            var frame = await viewer.ReceiveAsync(Wait) ?? throw new InvalidOperationException("closed");
            var type = frame.GetProperty("type").GetString();
            if (type == "promoted")
            {
                break;
            }

            if (type == "error")
            {
                // media-unavailable while the relay link comes up is fine; "not known to this node" is the defect.
                Assert.True(frame.GetProperty("code").GetString() == "media-unavailable" && DateTime.UtcNow < deadline, frame.GetRawText());
                await Task.Delay(250);
            }
        }
    }
}
