using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Idle;

/// <summary>Two control-plane instances on one database with a 3-second idle timeout.</summary>
public sealed class IdleFixture : ControlPlaneFixture
{
    public const int TimeoutSeconds = 3;

    protected override int IdleTimeoutSeconds => TimeoutSeconds;

    protected override int Instances => 2;

    /// <summary>A node silent for 6 s while the other nodes beat is gone (the default is 30 s).</summary>
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Nodes:GoneAfter", "00:00:06")];
}

public sealed class IdleReaperTests(IdleFixture fixture) : IClassFixture<IdleFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(IdleFixture.TimeoutSeconds);

    [Fact]
    public async Task Idle_primary_is_deleted_with_its_replicas_exactly_once_by_two_instances()
    {
        var primary = await ApiClient.CreateMeetingAsync(fixture.Clients[0]);
        var replica = await ApiClient.CreateMeetingAsync(fixture.Clients[1], "eu-west-1", primary);
        await ApiClient.CreateAttendeeAsync(fixture.Clients[0], primary, "presenter");

        var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == primary, Timeout * 5);

        Assert.Equal(MeetingDeletionReason.Idle, deleted.Reason);
        Assert.Equal([replica], deleted.ReplicaMeetingIds);
        Assert.Equal("NotFound", (await ApiClient.GetAsync(fixture.Clients[1], $"/meetings/{replica}")).Code);
        await Task.Delay(Timeout);
        Assert.Single(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == primary || e.MeetingId == replica));
    }

    [Fact]
    public async Task Every_idle_meeting_is_deleted_exactly_once_by_two_instances()
    {
        var meetings = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            meetings.Add(await ApiClient.CreateMeetingAsync(fixture.Clients[i % 2]));
        }

        foreach (var id in meetings)
        {
            await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == id, Timeout * 5);
        }

        await Task.Delay(Timeout);
        Assert.All(meetings, id => Assert.Single(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == id)));
    }

    [Fact]
    public async Task Meeting_with_one_live_connection_survives_and_is_deleted_after_it_leaves()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        var attendee = (await ApiClient.CreateAttendeeAsync(fixture.Client, meeting, "presenter")).GetProperty("AttendeeId").GetGuid();
        var connection = Guid.NewGuid();
        await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter", "node-us-east-1", connection, DateTimeOffset.UtcNow));

        await Task.Delay(Timeout * 3);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == meeting));

        var left = DateTimeOffset.UtcNow;
        await fixture.Events.Bus.Publish(new AttendeeLeft(meeting, attendee, "presenter", "node-us-east-1", connection, "left", left));
        var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == meeting, Timeout * 5);

        Assert.True(deleted.DeletedAt >= left + Timeout - TimeSpan.FromMilliseconds(500), "deleted before the idle timeout had passed since the last leave");
    }

    [Fact]
    public async Task Live_connection_in_a_replica_keeps_its_primary_and_the_replica_alive()
    {
        var primary = await ApiClient.CreateMeetingAsync(fixture.Client);
        var replica = await ApiClient.CreateMeetingAsync(fixture.Client, "ap-southeast-1", primary);
        var viewer = (await ApiClient.CreateAttendeeAsync(fixture.Client, replica, "viewer")).GetProperty("AttendeeId").GetGuid();
        await fixture.Events.Bus.Publish(new AttendeeJoined(replica, viewer, "viewer", "node-ap-southeast-1", Guid.NewGuid(), DateTimeOffset.UtcNow));

        await Task.Delay(Timeout * 3);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{primary}")).Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{replica}")).Status);
        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == primary || e.MeetingId == replica));
    }

    [Fact]
    public async Task Connections_counted_in_a_heartbeat_keep_a_meeting_alive_until_the_node_goes_silent()
    {
        await fixture.HeartbeatAsync("node-counting", "sa-east-1", 1);
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<int>("SELECT count(*) FROM nodes WHERE node_id = 'node-counting'") == 1,
            TimeSpan.FromSeconds(15), "node-counting registered");
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client, "sa-east-1");

        // Beat for about three timeouts reporting one connection in the meeting, then fall silent.
        for (var i = 0; i < IdleFixture.TimeoutSeconds * 3; i++)
        {
            await fixture.HeartbeatAsync("node-counting", "sa-east-1", 1, [new MeetingConnections(meeting, 1)]);
            await Task.Delay(1000);
        }

        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == meeting));
        var silent = DateTimeOffset.UtcNow;
        var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == meeting, TimeSpan.FromSeconds(30));
        Assert.True(deleted.DeletedAt > silent, "deleted while its node was still reporting a connection");
    }

    [Fact]
    public async Task Deleting_the_replica_is_never_done_alone_for_idleness()
    {
        var primary = await ApiClient.CreateMeetingAsync(fixture.Client);
        var replica = await ApiClient.CreateMeetingAsync(fixture.Client, "eu-west-1", primary);
        var presenter = (await ApiClient.CreateAttendeeAsync(fixture.Client, primary, "presenter")).GetProperty("AttendeeId").GetGuid();
        await fixture.Events.Bus.Publish(new AttendeeJoined(primary, presenter, "presenter", "node-us-east-1", Guid.NewGuid(), DateTimeOffset.UtcNow));

        await Task.Delay(Timeout * 3);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{replica}")).Status);
        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == replica));
    }
}
