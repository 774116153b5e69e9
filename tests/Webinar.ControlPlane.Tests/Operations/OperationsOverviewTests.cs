using System.Net;
using System.Text.Json;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Operations;

/// <summary>The operator page's overview over real PostgreSQL and RabbitMQ: nodes from heartbeats, the caller's meetings only.</summary>
public sealed class OperationsOverviewTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task The_overview_shows_a_reporting_node_and_the_callers_primary_and_replica_with_their_connections()
    {
        var primary = await ApiClient.CreateMeetingAsync(fixture.Client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(fixture.Client, "eu-west-1", primary);
        var node = "node-ops-" + Guid.NewGuid().ToString("N")[..8];

        await fixture.HeartbeatAsync(node, "eu-west-1", 7, [new MeetingConnections(replica, 5)]);

        JsonElement overview = default;
        await ControlPlaneFixture.WaitUntilAsync(async () =>
        {
            overview = (await ApiClient.GetAsync(fixture.Client, "/operations/overview")).Body;
            return Find(overview.GetProperty("Nodes"), "NodeId", node) is not null;
        }, TimeSpan.FromSeconds(30), "the heartbeat's node in the overview");

        var reported = Find(overview.GetProperty("Nodes"), "NodeId", node)!.Value;
        Assert.Equal("eu-west-1", reported.GetProperty("Region").GetString());
        Assert.True(reported.GetProperty("Healthy").GetBoolean());
        Assert.Equal(7, reported.GetProperty("Load").GetInt32());
        Assert.Equal(5, reported.GetProperty("Connections").GetInt32());

        var meetings = overview.GetProperty("Meetings");
        var shownPrimary = Find(meetings, "MeetingId", primary.ToString())!.Value;
        var shownReplica = Find(meetings, "MeetingId", replica.ToString())!.Value;
        Assert.False(shownPrimary.TryGetProperty("PrimaryMeetingId", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.Equal(0, shownPrimary.GetProperty("Connections").GetInt32());
        Assert.Equal(primary, shownReplica.GetProperty("PrimaryMeetingId").GetGuid());
        Assert.Equal("eu-west-1", shownReplica.GetProperty("MediaRegion").GetString());
        Assert.Equal(5, shownReplica.GetProperty("Connections").GetInt32());
        Assert.True(overview.GetProperty("Backlog").GetProperty("OutboxUnsent").GetInt64() >= 0);
    }

    [Fact]
    public async Task Another_platform_sees_the_nodes_but_not_this_platforms_meetings_and_no_key_is_refused()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client, "us-east-1");

        var other = await ApiClient.GetAsync(fixture.OtherPlatformClient, "/operations/overview");
        var anonymous = await fixture.CreateAnonymousClient().GetAsync("/operations/overview");

        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.NotNull(Find(other.Body.GetProperty("Nodes"), "NodeId", ControlPlaneFixture.NodeId("us-east-1")));
        Assert.Null(Find(other.Body.GetProperty("Meetings"), "MeetingId", meeting.ToString()));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static JsonElement? Find(JsonElement array, string property, string value)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (string.Equals(item.GetProperty(property).GetString(), value, StringComparison.OrdinalIgnoreCase))
            {
                return item;
            }
        }

        return null;
    }
}
