using System.Net;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Meetings;

public sealed class MeetingApiTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Create_meeting_is_placed_on_a_node_of_its_region_and_announced()
    {
        var response = await ApiClient.PostAsync(_client, "/meetings", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            ExternalMeetingId = "webinar-42",
            MediaRegion = "eu-west-1",
            Tags = new[] { new { Key = "team", Value = "sales" } },
        });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        var meeting = response.Body.GetProperty("Meeting");
        var id = meeting.GetProperty("MeetingId").GetGuid();
        Assert.Equal("webinar-42", meeting.GetProperty("ExternalMeetingId").GetString());
        Assert.Equal("eu-west-1", meeting.GetProperty("MediaRegion").GetString());
        Assert.Equal(ControlPlaneFixture.SignalingUrl("node-eu-west-1"), meeting.GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString());
        Assert.Equal(250, meeting.GetProperty("MeetingFeatures").GetProperty("Attendee").GetProperty("MaxCount").GetInt32());
        var created = await fixture.Events.WaitForAsync<MeetingCreated>(e => e.MeetingId == id);
        Assert.Equal("node-eu-west-1", created.NodeId);

        var fetched = await ApiClient.GetAsync(_client, $"/meetings/{id}");
        Assert.Equal(HttpStatusCode.OK, fetched.Status);
        Assert.Equal("sales", fetched.Body.GetProperty("Meeting").GetProperty("Tags")[0].GetProperty("Value").GetString());
    }

    [Fact]
    public async Task Same_client_request_token_and_body_returns_the_same_meeting()
    {
        var body = new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "us-east-1", ExternalMeetingId = "same" };

        var first = await ApiClient.PostAsync(_client, "/meetings", body);
        var second = await ApiClient.PostAsync(_client, "/meetings", body);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal(first.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid(), second.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid());
    }

    [Fact]
    public async Task Same_client_request_token_with_a_different_body_is_a_conflict()
    {
        var token = Guid.NewGuid().ToString("N");
        var first = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = token, MediaRegion = "us-east-1" });
        var second = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = token, MediaRegion = "eu-west-1" });

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("Conflict", second.Code);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_token_make_one_meeting()
    {
        var body = new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "us-east-1" };

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ApiClient.PostAsync(_client, "/meetings", body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Single(responses.Select(r => r.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid()).Distinct());
    }

    [Fact]
    public async Task Fifth_replica_is_refused_with_LimitExceeded()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replicas = new List<Guid>();
        foreach (var region in new[] { "eu-west-1", "ap-southeast-1", "us-east-1", "eu-west-1" })
        {
            replicas.Add(await ApiClient.CreateMeetingAsync(_client, region, primary));
        }

        var fifth = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "eu-west-1", PrimaryMeetingId = primary });

        Assert.Equal(HttpStatusCode.BadRequest, fifth.Status);
        Assert.Equal("LimitExceeded", fifth.Code);
        var listed = await ApiClient.GetAsync(_client, $"/meetings/{primary}/replicas");
        Assert.Equal(replicas.Order(), listed.Body.GetProperty("Meetings").EnumerateArray().Select(m => m.GetProperty("MeetingId").GetGuid()).Order());
    }

    [Fact]
    public async Task Replica_is_announced_with_its_primary_and_may_share_its_region()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(_client, "us-east-1", primary);

        var created = await fixture.Events.WaitForAsync<ReplicaCreated>(e => e.MeetingId == replica);
        Assert.Equal(primary, created.PrimaryMeetingId);
        Assert.Equal("node-us-east-1", created.PrimaryNodeId);
        var fetched = await ApiClient.GetAsync(_client, $"/meetings/{replica}");
        Assert.Equal(primary, fetched.Body.GetProperty("Meeting").GetProperty("PrimaryMeetingId").GetGuid());
    }

    [Fact]
    public async Task Replica_of_a_replica_is_refused()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);

        var response = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "eu-west-1", PrimaryMeetingId = replica });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Replica_of_an_unknown_primary_is_not_found()
    {
        var response = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "eu-west-1", PrimaryMeetingId = Guid.NewGuid() });

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NotFound", response.Code);
    }

    [Fact]
    public async Task Region_without_a_healthy_node_is_ServiceUnavailable()
    {
        var response = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "sa-east-1" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        Assert.Equal("ServiceUnavailable", response.Code);
    }

    [Fact]
    public async Task Unknown_region_is_a_bad_request()
    {
        var response = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "mars-north-1" });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Meeting_is_placed_on_the_least_loaded_healthy_node()
    {
        await fixture.HeartbeatAsync("node-ca-busy", "ca-central-1", load: 40);
        await fixture.HeartbeatAsync("node-ca-idle", "ca-central-1", load: 3);
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<int>("SELECT count(*) FROM nodes WHERE region = 'ca-central-1'") == 2,
            TimeSpan.FromSeconds(15), "ca-central-1 nodes registered");

        var response = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString("N"), MediaRegion = "ca-central-1" });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(ControlPlaneFixture.SignalingUrl("node-ca-idle"), response.Body.GetProperty("Meeting").GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString());
    }

    [Fact]
    public async Task Delete_primary_deletes_its_replicas_and_attendees_with_one_event()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replicaA = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);
        var replicaB = await ApiClient.CreateMeetingAsync(_client, "ap-southeast-1", primary);
        var presenter = await ApiClient.CreateAttendeeAsync(_client, primary, "presenter-1");
        var viewer = await ApiClient.CreateAttendeeAsync(_client, replicaA, "viewer-1");

        var deleted = await ApiClient.DeleteAsync(_client, $"/meetings/{primary}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        foreach (var id in new[] { primary, replicaA, replicaB })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/meetings/{id}")).Status);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/meetings/{primary}/attendees/{presenter.GetProperty("AttendeeId").GetGuid()}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/meetings/{replicaA}/attendees/{viewer.GetProperty("AttendeeId").GetGuid()}")).Status);
        var e = await fixture.Events.WaitForAsync<MeetingDeleted>(m => m.MeetingId == primary);
        Assert.Equal(MeetingDeletionReason.Api, e.Reason);
        Assert.Equal(new[] { replicaA, replicaB }.Order(), e.ReplicaMeetingIds.Order());
        await Task.Delay(1500);
        Assert.Single(fixture.Events.All<MeetingDeleted>(m => m.MeetingId == primary || m.MeetingId == replicaA || m.MeetingId == replicaB));
    }

    [Fact]
    public async Task Deleting_a_replica_frees_a_replica_place()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replicas = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            replicas.Add(await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(_client, $"/meetings/{replicas[0]}")).Status);
        var e = await fixture.Events.WaitForAsync<MeetingDeleted>(m => m.MeetingId == replicas[0]);

        Assert.Equal(primary, e.PrimaryMeetingId);
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(_client, $"/meetings/{primary}")).Status);
        await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);
    }

    [Fact]
    public async Task Create_meeting_with_attendees_returns_attendees_and_per_attendee_errors()
    {
        var response = await ApiClient.PostAsync(_client, "/meetings?operation=create-attendees", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            MediaRegion = "us-east-1",
            MeetingFeatures = new { Attendee = new { MaxCount = 2 } },
            Attendees = new object[]
            {
                new { ExternalUserId = "host-1" },
                new { ExternalUserId = "x" },
                new { ExternalUserId = "host-2" },
                new { ExternalUserId = "host-3" },
            },
        });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(new[] { "host-1", "host-2" }, response.Body.GetProperty("Attendees").EnumerateArray().Select(a => a.GetProperty("ExternalUserId").GetString()));
        var errors = response.Body.GetProperty("Errors").EnumerateArray().Select(e => (e.GetProperty("ExternalUserId").GetString(), e.GetProperty("ErrorCode").GetString())).ToList();
        Assert.Equal([("x", "BadRequest"), ("host-3", "LimitExceeded")], errors);
    }

    [Fact]
    public async Task Delete_of_an_unknown_meeting_is_not_found()
    {
        var response = await ApiClient.DeleteAsync(_client, $"/meetings/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NotFound", response.Code);
    }
}
