using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Idle;

/// <summary>Connections reconciled from each node's own list; a Left handled before its Joined leaves no ghost.</summary>
public sealed class GhostConnectionTests(IdleFixture fixture) : IClassFixture<IdleFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(IdleFixture.TimeoutSeconds);

    [Fact]
    public async Task A_leave_handled_before_its_join_leaves_no_ghost_and_the_meeting_idles_out()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        var attendee = (await ApiClient.CreateAttendeeAsync(fixture.Client, meeting, "presenter")).GetProperty("AttendeeId").GetGuid();
        var connection = Guid.NewGuid();
        await fixture.Events.Bus.Publish(new AttendeeLeft(meeting, attendee, "presenter", "node-us-east-1", connection, "left", DateTimeOffset.UtcNow));
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM ended_connections WHERE connection_id = @connection", new { connection }) == 1,
            TimeSpan.FromSeconds(15), "the leave handled");
        await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter", "node-us-east-1", connection, DateTimeOffset.UtcNow));

        var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == meeting, Timeout * 10);

        Assert.Equal(MeetingDeletionReason.Idle, deleted.Reason);
        Assert.Equal(0, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM live_connections WHERE connection_id = @connection", new { connection }));
    }

    [Fact]
    public async Task A_connection_its_node_no_longer_lists_stops_counting_while_the_node_beats_on()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        var attendee = (await ApiClient.CreateAttendeeAsync(fixture.Client, meeting, "presenter")).GetProperty("AttendeeId").GetGuid();
        var kept = Guid.NewGuid();
        var lost = Guid.NewGuid();
        using var stop = new CancellationTokenSource();
        var listed = new List<Guid> { kept };
        var beats = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await fixture.HeartbeatListingAsync("node-listing", "ca-central-1", [], [.. listed]);
                await Task.Delay(500).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
        try
        {
            // Two joins; the node goes on listing only one of them (the other's AttendeeLeft was never published).
            await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter", "node-listing", kept, DateTimeOffset.UtcNow));
            await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter", "node-listing", lost, DateTimeOffset.UtcNow));
            await ControlPlaneFixture.WaitUntilAsync(
                async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM live_connections WHERE connection_id = @lost", new { lost }) == 0,
                TimeSpan.FromSeconds(30), "the unlisted connection dropped");
            await Task.Delay(Timeout * 2);
            Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == meeting));
            Assert.Equal(1, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM live_connections WHERE connection_id = @kept", new { kept }));

            // Now the node lists none: the meeting idles out while its node is perfectly healthy.
            listed.Clear();
            var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == meeting, Timeout * 10);
            Assert.Equal(MeetingDeletionReason.Idle, deleted.Reason);
        }
        finally
        {
            await stop.CancelAsync();
            await beats;
        }
    }
}

/// <summary>Two instances on one database; the second's clock runs an hour ahead.</summary>
public sealed class SkewedClockFixture : ControlPlaneFixture
{
    protected override int Instances => 2;

    protected override int IdleTimeoutSeconds => 300;

    protected override void ConfigureInstance(int index, WebApplicationBuilder builder)
    {
        if (index == 1)
        {
            builder.Services.AddSingleton<TimeProvider>(new SkewedTimeProvider(TimeSpan.FromHours(1)));
        }
    }
}

/// <summary>Node health and idleness are judged on the database's clock, whatever each instance's clock says.</summary>
public sealed class DatabaseClockTests(SkewedClockFixture fixture) : IClassFixture<SkewedClockFixture>
{
    [Fact]
    public async Task An_instance_whose_clock_runs_ahead_deletes_no_meeting_before_its_idle_timeout()
    {
        var fromNormal = await ApiClient.CreateMeetingAsync(fixture.Clients[0]);
        var fromSkewed = await ApiClient.CreateMeetingAsync(fixture.Clients[1]);

        // Both instances' reapers run every second; the idle timeout is five minutes.
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Clients[0], $"/meetings/{fromNormal}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Clients[0], $"/meetings/{fromSkewed}")).Status);
        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == fromNormal || e.MeetingId == fromSkewed));
    }

    [Fact]
    public async Task A_node_that_stopped_beating_is_unhealthy_for_every_instance()
    {
        await fixture.HeartbeatAsync("node-stopped", "sa-east-1", 0);
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM nodes WHERE node_id = 'node-stopped'") == 1,
            TimeSpan.FromSeconds(15), "node-stopped registered");

        // Its one heartbeat was recorded by whichever instance consumed it; after 6 s it is unhealthy for both.
        await Task.Delay(TimeSpan.FromSeconds(7));

        foreach (var client in fixture.Clients)
        {
            var response = await ApiClient.PostAsync(client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString(), MediaRegion = "sa-east-1" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        }
    }
}

/// <summary>Only the three regions that have a (fake) node.</summary>
public sealed class ThreeRegionFixture : ControlPlaneFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Meetings:Regions", "us-east-1 eu-west-1 ap-southeast-1"),
    ];
}

/// <summary>Per-region node health: what infra/up waits for before it says "up".</summary>
public sealed class NodeHealthTests(ThreeRegionFixture threeRegions) : IClassFixture<ThreeRegionFixture>
{
    [Fact]
    public async Task Node_health_is_ready_when_every_region_has_a_healthy_node()
    {
        var response = await threeRegions.CreateAnonymousClient().GetAsync("/readyz/nodes");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.RootElement.GetProperty("Ready").GetBoolean());
        Assert.All(body.RootElement.GetProperty("Regions").EnumerateArray(), r => Assert.True(r.GetProperty("HealthyNodes").GetInt32() >= 1));
    }
}

/// <summary>The shared fixture's sa-east-1 and ca-central-1 have no node.</summary>
public sealed class NodeHealthMissingRegionTests(IdleFixture fixture) : IClassFixture<IdleFixture>
{
    [Fact]
    public async Task Node_health_is_503_and_names_the_region_without_a_node()
    {
        var response = await fixture.CreateAnonymousClient().GetAsync("/readyz/nodes");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var regions = body.RootElement.GetProperty("Regions").EnumerateArray()
            .ToDictionary(r => r.GetProperty("Region").GetString()!, r => r.GetProperty("HealthyNodes").GetInt32());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(body.RootElement.GetProperty("Ready").GetBoolean());
        Assert.Equal(0, regions["sa-east-1"]);
        Assert.True(regions["us-east-1"] >= 1);
    }
}
