using System.Net;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Platforms;

/// <summary>
/// Each API key acts for one platform: another platform's meetings and attendees (and so their join tokens) answer
/// 404 as if they did not exist, on the real PostgreSQL.
/// </summary>
public sealed class TenancyTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _a = fixture.Client;
    private readonly HttpClient _b = fixture.OtherPlatformClient;

    [Fact]
    public async Task Another_platform_cannot_get_list_replicas_of_or_delete_a_meeting()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_a);
        await ApiClient.CreateMeetingAsync(_a, "eu-west-1", primary: meeting);

        var get = await ApiClient.GetAsync(_b, $"/meetings/{meeting}");
        var replicas = await ApiClient.GetAsync(_b, $"/meetings/{meeting}/replicas");
        var delete = await ApiClient.DeleteAsync(_b, $"/meetings/{meeting}");

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound], new[] { get.Status, replicas.Status, delete.Status });
        Assert.All(new[] { get, replicas, delete }, r => Assert.Equal("NotFound", r.Code));
        var still = await ApiClient.GetAsync(_a, $"/meetings/{meeting}");
        Assert.Equal(HttpStatusCode.OK, still.Status);
        Assert.Single((await ApiClient.GetAsync(_a, $"/meetings/{meeting}/replicas")).Body.GetProperty("Meetings").EnumerateArray());
    }

    [Fact]
    public async Task Another_platform_cannot_list_get_delete_or_create_attendees_nor_read_their_tokens()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_a);
        var attendee = await ApiClient.CreateAttendeeAsync(_a, meeting, "presenter-a");
        var attendeeId = attendee.GetProperty("AttendeeId").GetGuid();
        var token = attendee.GetProperty("JoinToken").GetString()!;

        var list = await ApiClient.GetAsync(_b, $"/meetings/{meeting}/attendees");
        var get = await ApiClient.GetAsync(_b, $"/meetings/{meeting}/attendees/{attendeeId}");
        var delete = await ApiClient.DeleteAsync(_b, $"/meetings/{meeting}/attendees/{attendeeId}");
        var create = await ApiClient.PostAsync(_b, $"/meetings/{meeting}/attendees", new { ExternalUserId = "intruder" });
        var batch = await ApiClient.PostAsync(_b, $"/meetings/{meeting}/attendees?operation=batch-create", new { Attendees = new[] { new { ExternalUserId = "intruder" } } });

        foreach (var r in new[] { list, get, delete, create, batch })
        {
            Assert.Equal(HttpStatusCode.NotFound, r.Status);
            Assert.Equal("NotFound", r.Code);
            Assert.DoesNotContain(token, r.Body.ToString(), StringComparison.Ordinal);
        }

        var own = await ApiClient.GetAsync(_a, $"/meetings/{meeting}/attendees");
        var only = Assert.Single(own.Body.GetProperty("Attendees").EnumerateArray());
        Assert.Equal(token, only.GetProperty("JoinToken").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(_a, $"/meetings/{meeting}/attendees/{attendeeId}")).Status);
    }

    [Fact]
    public async Task Another_platform_cannot_make_a_replica_of_a_primary()
    {
        var primary = await ApiClient.CreateMeetingAsync(_a);

        var response = await ApiClient.PostAsync(_b, "/meetings", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            MediaRegion = "eu-west-1",
            PrimaryMeetingId = primary,
        });

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NotFound", response.Code);
        Assert.Empty((await ApiClient.GetAsync(_a, $"/meetings/{primary}/replicas")).Body.GetProperty("Meetings").EnumerateArray());
    }

    [Fact]
    public async Task The_same_client_request_token_on_two_platforms_makes_two_meetings_and_replays_neither()
    {
        var token = Guid.NewGuid().ToString("N");
        var body = new { ClientRequestToken = token, MediaRegion = "us-east-1", Attendees = new[] { new { ExternalUserId = "host-a" } } };

        var first = await ApiClient.PostAsync(_a, "/meetings?operation=create-attendees", body);
        var second = await ApiClient.PostAsync(_b, "/meetings?operation=create-attendees", body);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        var a = first.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid();
        var b = second.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid();
        Assert.NotEqual(a, b);
        var tokenOfA = first.Body.GetProperty("Attendees")[0].GetProperty("JoinToken").GetString()!;
        Assert.DoesNotContain(tokenOfA, second.Body.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_b, $"/meetings/{a}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_a, $"/meetings/{b}")).Status);
        Assert.Equal(a, (await ApiClient.PostAsync(_a, "/meetings?operation=create-attendees", body)).Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid());
    }

    [Fact]
    public async Task Each_platform_sees_its_own_meetings()
    {
        var ofB = await ApiClient.CreateMeetingAsync(_b);

        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(_b, $"/meetings/{ofB}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_a, $"/meetings/{ofB}")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(_b, $"/meetings/{ofB}")).Status);
    }
}
