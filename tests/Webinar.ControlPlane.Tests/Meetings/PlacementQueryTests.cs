using MassTransit;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Meetings;

/// <summary>GetMeetingPlacement and GetNodeMeetings asked over the real RabbitMQ, as an SFU node asks them.</summary>
public sealed class PlacementQueryTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Placement_of_a_primary_names_its_node_region_and_limit()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client, "us-east-1", maxCount: 40);

        var placement = await AskAsync(meeting);

        Assert.True(placement.Exists);
        Assert.Equal(meeting, placement.MeetingId);
        Assert.Equal("us-east-1", placement.MediaRegion);
        Assert.Equal(ControlPlaneFixture.NodeId("us-east-1"), placement.NodeId);
        Assert.Equal(40, placement.MaxAttendees);
        Assert.Null(placement.PrimaryMeetingId);
        Assert.Null(placement.PrimaryNodeId);
        Assert.Empty(placement.RevokedAttendeeIds);
    }

    [Fact]
    public async Task Placement_of_a_replica_names_its_primary_and_the_primarys_node()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(_client, "ap-southeast-1", primary);

        var placement = await AskAsync(replica);

        Assert.True(placement.Exists);
        Assert.Equal(ControlPlaneFixture.NodeId("ap-southeast-1"), placement.NodeId);
        Assert.Equal("ap-southeast-1", placement.MediaRegion);
        Assert.Equal(primary, placement.PrimaryMeetingId);
        Assert.Equal(ControlPlaneFixture.NodeId("us-east-1"), placement.PrimaryNodeId);
        Assert.Equal("us-east-1", placement.PrimaryMediaRegion);
    }

    [Fact]
    public async Task Unknown_meeting_does_not_exist()
    {
        var unknown = Guid.NewGuid();

        var placement = await AskAsync(unknown);

        Assert.False(placement.Exists);
        Assert.Equal(unknown, placement.MeetingId);
        Assert.Empty(placement.RevokedAttendeeIds);
    }

    [Fact]
    public async Task Deleted_primary_and_its_replica_no_longer_exist()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);
        Assert.True((await AskAsync(replica)).Exists);

        await ApiClient.DeleteAsync(_client, $"/meetings/{primary}");

        Assert.False((await AskAsync(primary)).Exists);
        Assert.False((await AskAsync(replica)).Exists);
    }

    [Fact]
    public async Task Deleted_attendees_are_listed_as_revoked_and_active_ones_are_not()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client, "eu-west-1");
        var gone = (await ApiClient.CreateAttendeeAsync(_client, meeting, "gone-1")).GetProperty("AttendeeId").GetGuid();
        var kept = (await ApiClient.CreateAttendeeAsync(_client, meeting, "kept-1")).GetProperty("AttendeeId").GetGuid();
        await ApiClient.DeleteAsync(_client, $"/meetings/{meeting}/attendees/{gone}");

        var placement = await AskAsync(meeting);

        Assert.Equal([gone], placement.RevokedAttendeeIds);
        Assert.DoesNotContain(kept, placement.RevokedAttendeeIds);
    }

    [Fact]
    public async Task Node_meetings_lists_its_meetings_and_the_primaries_of_its_replicas_but_no_deleted_one()
    {
        var node = ControlPlaneFixture.NodeId("eu-west-1");
        var local = await ApiClient.CreateMeetingAsync(_client, "eu-west-1");
        var primary = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);
        var elsewhere = await ApiClient.CreateMeetingAsync(_client, "ap-southeast-1");
        var deleted = await ApiClient.CreateMeetingAsync(_client, "eu-west-1");
        await ApiClient.DeleteAsync(_client, $"/meetings/{deleted}");
        var attendee = (await ApiClient.CreateAttendeeAsync(_client, primary, "presenter-1")).GetProperty("AttendeeId").GetGuid();
        await ApiClient.DeleteAsync(_client, $"/meetings/{primary}/attendees/{attendee}");

        var client = fixture.Events.Bus.CreateRequestClient<GetNodeMeetings>(RequestTimeout.After(s: 10));
        var answer = (await client.GetResponse<NodeMeetings>(new GetNodeMeetings(node))).Message;

        Assert.Equal(node, answer.NodeId);
        var byId = answer.Meetings.ToDictionary(m => m.MeetingId);
        Assert.Equal(node, byId[local].NodeId);
        Assert.Equal(primary, byId[replica].PrimaryMeetingId);
        Assert.Equal(ControlPlaneFixture.NodeId("us-east-1"), byId[primary].NodeId);
        Assert.Equal([attendee], byId[primary].RevokedAttendeeIds);
        Assert.DoesNotContain(elsewhere, byId.Keys);
        Assert.DoesNotContain(deleted, byId.Keys);
        Assert.All(answer.Meetings, m =>
        {
            Assert.True(m.Exists);
            Assert.True(m.NodeId == node || answer.Meetings.Any(r => r.PrimaryMeetingId == m.MeetingId && r.NodeId == node));
        });
    }

    [Fact]
    public async Task Node_without_meetings_gets_an_empty_list()
    {
        var client = fixture.Events.Bus.CreateRequestClient<GetNodeMeetings>(RequestTimeout.After(s: 10));

        var answer = (await client.GetResponse<NodeMeetings>(new GetNodeMeetings("node-nowhere"))).Message;

        Assert.Empty(answer.Meetings);
    }

    private async Task<MeetingPlacement> AskAsync(Guid meetingId)
    {
        var client = fixture.Events.Bus.CreateRequestClient<GetMeetingPlacement>(RequestTimeout.After(s: 10));
        return (await client.GetResponse<MeetingPlacement>(new GetMeetingPlacement(meetingId))).Message;
    }
}
