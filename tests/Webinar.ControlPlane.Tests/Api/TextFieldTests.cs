using System.Net;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Api;

/// <summary>
/// Text that PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate) is refused with a 400 naming the
/// field, never a 500 from the database.
/// </summary>
public sealed class TextFieldTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    public static TheoryData<string, string> MeetingFields => new()
    {
        { "ClientRequestToken", "{\"ClientRequestToken\": \"tok\\u0000-{0}\", \"MediaRegion\": \"us-east-1\"}" },
        { "ExternalMeetingId", "{\"ClientRequestToken\": \"tok-{0}\", \"ExternalMeetingId\": \"web\\u0000inar\", \"MediaRegion\": \"us-east-1\"}" },
        { "Tags", "{\"ClientRequestToken\": \"tok-{0}\", \"MediaRegion\": \"us-east-1\", \"Tags\": [{\"Key\": \"te\\u0000am\", \"Value\": \"sales\"}]}" },
        { "Tags", "{\"ClientRequestToken\": \"tok-{0}\", \"MediaRegion\": \"us-east-1\", \"Tags\": [{\"Key\": \"team\", \"Value\": \"\\u0000\"}]}" },
        { "ExternalMeetingId", "{\"ClientRequestToken\": \"tok-{0}\", \"ExternalMeetingId\": \"web\\ud800inar\", \"MediaRegion\": \"us-east-1\"}" },
    };

    [Theory]
    [MemberData(nameof(MeetingFields))]
    public async Task A_meeting_field_with_a_nul_or_lone_surrogate_is_a_bad_request_naming_the_field(string field, string template)
    {
        var body = template.Replace("{0}", Guid.NewGuid().ToString("N"), StringComparison.Ordinal);
        var response = await ApiClient.PostRawAsync(_client, "/meetings", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
        Assert.Contains(field, response.Body.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"ExternalUserId\": \"us\\u0000er\"}")]
    [InlineData("{\"ExternalUserId\": \"\\u0000\\u0000\\u0000\"}")]
    [InlineData("{\"ExternalUserId\": \"user\\udc00\"}")]
    public async Task Create_attendee_with_a_nul_in_ExternalUserId_is_a_bad_request(string body)
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var response = await ApiClient.PostRawAsync(_client, $"/meetings/{meeting}/attendees", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
        Assert.Contains("ExternalUserId", response.Body.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_meeting_with_attendees_reports_the_attendee_with_a_nul()
    {
        var response = await ApiClient.PostRawAsync(_client, "/meetings?operation=create-attendees",
            "{\"ClientRequestToken\": \"" + Guid.NewGuid().ToString("N") + "\", \"MediaRegion\": \"us-east-1\", \"Attendees\": [{\"ExternalUserId\": \"us\\u0000er\"}]}");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Empty(response.Body.GetProperty("Attendees").EnumerateArray());
        var error = Assert.Single(response.Body.GetProperty("Errors").EnumerateArray());
        Assert.Equal("BadRequest", error.GetProperty("ErrorCode").GetString());
        Assert.Contains("ExternalUserId", error.GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_create_reports_the_attendee_with_a_nul_and_creates_the_others()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var response = await ApiClient.PostRawAsync(_client, $"/meetings/{meeting}/attendees?operation=batch-create",
            "{\"Attendees\": [{\"ExternalUserId\": \"good-user\"}, {\"ExternalUserId\": \"bad\\u0000user\"}]}");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal("good-user", Assert.Single(response.Body.GetProperty("Attendees").EnumerateArray()).GetProperty("ExternalUserId").GetString());
        var error = Assert.Single(response.Body.GetProperty("Errors").EnumerateArray());
        Assert.Equal("BadRequest", error.GetProperty("ErrorCode").GetString());
        Assert.Contains("ExternalUserId", error.GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
    }
}
