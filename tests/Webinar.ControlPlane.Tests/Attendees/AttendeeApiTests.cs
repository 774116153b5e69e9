using System.Net;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Attendees;

public sealed class AttendeeApiTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Three_hundred_concurrent_creates_make_exactly_250_attendees()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            ApiClient.PostAsync(_client, $"/meetings/{meeting}/attendees", new { ExternalUserId = $"user-{i:D3}" })));

        Assert.Equal(250, responses.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.Equal("LimitExceeded", r.Code);
        });
        var listed = 0;
        string? next = null;
        do
        {
            var page = await ApiClient.GetAsync(_client, $"/meetings/{meeting}/attendees?max-results=100" + (next is null ? "" : "&next-token=" + next));
            listed += page.Body.GetProperty("Attendees").GetArrayLength();
            next = page.Body.TryGetProperty("NextToken", out var t) ? t.GetString() : null;
        }
        while (next is not null);
        Assert.Equal(250, listed);
    }

    [Fact]
    public async Task MaxCount_caps_the_meeting_and_a_deleted_attendee_frees_a_place()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client, maxCount: 2);
        var first = await ApiClient.CreateAttendeeAsync(_client, meeting, "user-1");
        await ApiClient.CreateAttendeeAsync(_client, meeting, "user-2");

        var third = await ApiClient.PostAsync(_client, $"/meetings/{meeting}/attendees", new { ExternalUserId = "user-3" });
        Assert.Equal("LimitExceeded", third.Code);

        await ApiClient.DeleteAsync(_client, $"/meetings/{meeting}/attendees/{first.GetProperty("AttendeeId").GetGuid()}");
        await ApiClient.CreateAttendeeAsync(_client, meeting, "user-3");
    }

    [Fact]
    public async Task Batch_create_creates_what_it_can_and_reports_each_refusal()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client, maxCount: 3);

        var response = await ApiClient.PostAsync(_client, $"/meetings/{meeting}/attendees?operation=batch-create", new
        {
            Attendees = new object[]
            {
                new { ExternalUserId = "a-1" },
                new { ExternalUserId = "" },
                new { ExternalUserId = "a-2", Capabilities = new { Audio = "Send", Video = "Receive", Content = "None" } },
                new { ExternalUserId = new string('x', 65) },
                new { ExternalUserId = "a-3" },
                new { ExternalUserId = "a-4" },
            },
        });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(new[] { "a-1", "a-2", "a-3" }, response.Body.GetProperty("Attendees").EnumerateArray().Select(a => a.GetProperty("ExternalUserId").GetString()));
        var a2 = response.Body.GetProperty("Attendees")[1].GetProperty("Capabilities");
        Assert.Equal("Send", a2.GetProperty("Audio").GetString());
        Assert.Equal("None", a2.GetProperty("Content").GetString());
        var errors = response.Body.GetProperty("Errors").EnumerateArray().Select(e => (e.GetProperty("ExternalUserId").GetString(), e.GetProperty("ErrorCode").GetString())).ToList();
        Assert.Equal([("", "BadRequest"), (new string('x', 65), "BadRequest"), ("a-4", "LimitExceeded")], errors);
        Assert.All(response.Body.GetProperty("Errors").EnumerateArray(), e => Assert.False(string.IsNullOrEmpty(e.GetProperty("ErrorMessage").GetString())));
    }

    [Fact]
    public async Task Batch_of_more_than_100_attendees_is_a_bad_request()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var response = await ApiClient.PostAsync(_client, $"/meetings/{meeting}/attendees?operation=batch-create", new
        {
            Attendees = Enumerable.Range(0, 101).Select(i => new { ExternalUserId = $"u-{i}" }).ToArray(),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Primary_attendee_defaults_to_SendReceive()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var attendee = await ApiClient.CreateAttendeeAsync(_client, meeting, "presenter");

        Assert.All(new[] { "Audio", "Video", "Content" }, k => Assert.Equal("SendReceive", attendee.GetProperty("Capabilities").GetProperty(k).GetString()));
        Assert.False(string.IsNullOrEmpty(attendee.GetProperty("JoinToken").GetString()));
    }

    [Theory]
    [InlineData("SendReceive", "Receive", "None")]
    [InlineData("Receive", "Send", "None")]
    [InlineData("Receive", "Receive", "SendReceive")]
    public async Task Replica_attendee_that_could_send_is_refused(string audio, string video, string content)
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);

        var response = await ApiClient.PostAsync(_client, $"/meetings/{replica}/attendees", new
        {
            ExternalUserId = "viewer",
            Capabilities = new { Audio = audio, Video = video, Content = content },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Replica_attendee_defaults_to_Receive()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);

        var attendee = await ApiClient.CreateAttendeeAsync(_client, replica, "viewer");

        Assert.All(new[] { "Audio", "Video", "Content" }, k => Assert.Equal("Receive", attendee.GetProperty("Capabilities").GetProperty(k).GetString()));
    }

    [Fact]
    public async Task Delete_attendee_hides_it_and_publishes_AttendeeDeleted()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);
        var attendee = await ApiClient.CreateAttendeeAsync(_client, meeting, "leaver");
        var id = attendee.GetProperty("AttendeeId").GetGuid();
        Assert.Equal("leaver", (await fixture.Events.WaitForAsync<AttendeeCreated>(e => e.AttendeeId == id)).ExternalUserId);

        var deleted = await ApiClient.DeleteAsync(_client, $"/meetings/{meeting}/attendees/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/meetings/{meeting}/attendees/{id}")).Status);
        var e = await fixture.Events.WaitForAsync<AttendeeDeleted>(m => m.AttendeeId == id);
        Assert.Equal(meeting, e.MeetingId);
        Assert.Equal("leaver", e.ExternalUserId);
        Assert.Equal("NotFound", (await ApiClient.DeleteAsync(_client, $"/meetings/{meeting}/attendees/{id}")).Code);
    }

    [Fact]
    public async Task List_attendees_pages_through_every_attendee_once()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);
        var created = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((await ApiClient.CreateAttendeeAsync(_client, meeting, $"member-{i}")).GetProperty("AttendeeId").GetGuid());
        }

        var seen = new List<Guid>();
        var pages = 0;
        string? next = null;
        do
        {
            var page = await ApiClient.GetAsync(_client, $"/meetings/{meeting}/attendees?max-results=3" + (next is null ? "" : "&next-token=" + Uri.EscapeDataString(next)));
            Assert.Equal(HttpStatusCode.OK, page.Status);
            var items = page.Body.GetProperty("Attendees").EnumerateArray().Select(a => a.GetProperty("AttendeeId").GetGuid()).ToList();
            Assert.True(items.Count <= 3);
            seen.AddRange(items);
            next = page.Body.TryGetProperty("NextToken", out var t) ? t.GetString() : null;
            pages++;
        }
        while (next is not null);

        Assert.Equal(3, pages);
        Assert.Equal(created, seen);
    }

    [Theory]
    [InlineData("max-results=0")]
    [InlineData("max-results=101")]
    [InlineData("max-results=abc")]
    [InlineData("next-token=%%%")]
    [InlineData("next-token=AAAA")]
    public async Task Bad_pagination_parameters_are_a_bad_request(string query)
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var response = await ApiClient.GetAsync(_client, $"/meetings/{meeting}/attendees?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Attendee_of_an_unknown_meeting_is_not_found()
    {
        var response = await ApiClient.PostAsync(_client, $"/meetings/{Guid.NewGuid()}/attendees", new { ExternalUserId = "someone" });

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NotFound", response.Code);
    }
}
