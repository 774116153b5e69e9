using System.Net;
using System.Text;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Api;

public sealed class ApiErrorTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{\"ClientRequestToken\": 5, \"MediaRegion\": \"us-east-1\"}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\", \"MediaRegion\": \"us-east-1\", \"MeetingFeatures\": {\"Attendee\": {\"MaxCount\": \"many\"}}}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\", \"MediaRegion\": \"us-east-1\", \"MeetingFeatures\": {\"Attendee\": {\"MaxCount\": 251}}}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\", \"MediaRegion\": \"us-east-1\", \"PrimaryMeetingId\": \"not-a-guid\"}")]
    [InlineData("{\"MediaRegion\": \"us-east-1\"}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\"}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\", \"MediaRegion\": \"us-east-1\", \"NotificationsConfiguration\": {\"WebhookUrl\": \"ftp://x\"}}")]
    [InlineData("{\"ClientRequestToken\": \"tok-1\", \"MediaRegion\": \"us-east-1\", \"Attendees\": [{\"ExternalUserId\": \"abc\"}]}")]
    public async Task Malformed_create_meeting_bodies_are_a_bad_request_with_a_code(string body)
    {
        var response = await ApiClient.PostRawAsync(_client, "/meetings", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
        Assert.False(string.IsNullOrEmpty(response.Body.GetProperty("Message").GetString()));
    }

    [Theory]
    [InlineData("{\"ExternalUserId\": \"user-1\", \"Capabilities\": {\"Audio\": \"Loud\"}}")]
    [InlineData("{\"ExternalUserId\": \"user-1\", \"Capabilities\": {\"Audio\": 1}}")]
    [InlineData("{\"ExternalUserId\": 12}")]
    [InlineData("{\"ExternalUserId\": \"u\"}")]
    [InlineData("{}")]
    [InlineData("{\"ExternalUserId\": \"user-1\"")]
    public async Task Malformed_create_attendee_bodies_are_a_bad_request_with_a_code(string body)
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);

        var response = await ApiClient.PostRawAsync(_client, $"/meetings/{meeting}/attendees", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Theory]
    [InlineData("GET", "/meetings/not-a-guid")]
    [InlineData("GET", "/meetings/not-a-guid/attendees")]
    [InlineData("DELETE", "/meetings/12345")]
    [InlineData("GET", "/meetings/00000000-0000-0000-0000-000000000001/attendees/xyz")]
    public async Task Bad_ids_in_routes_are_a_bad_request(string method, string url)
    {
        var response = await ApiClient.SendAsync(_client, new HttpMethod(method), url, null);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Unknown_operation_is_a_bad_request()
    {
        var response = await ApiClient.PostRawAsync(_client, "/meetings?operation=explode", "{\"ClientRequestToken\":\"t-1\",\"MediaRegion\":\"us-east-1\"}");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
    }

    [Fact]
    public async Task Oversized_body_is_refused_with_a_code()
    {
        var huge = "{\"ClientRequestToken\":\"" + new string('a', 2 * 1024 * 1024) + "\",\"MediaRegion\":\"us-east-1\"}";

        var response = await ApiClient.PostRawAsync(_client, "/meetings", huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.Status);
        Assert.Equal("PayloadTooLarge", response.Code);
    }

    [Fact]
    public async Task Non_json_content_type_is_refused_with_a_code()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/meetings") { Content = new StringContent("ClientRequestToken=x", Encoding.UTF8, "text/plain") };

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("\"Code\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key")]
    [InlineData("Bearer ")]
    [InlineData("Basic dGVzdDp0ZXN0")]
    [InlineData("test-api-key")]
    public async Task Missing_or_wrong_api_key_is_unauthorized(string? authorization)
    {
        using var client = fixture.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/meetings")
        {
            Content = new StringContent("{\"ClientRequestToken\":\"t-1\",\"MediaRegion\":\"us-east-1\"}", Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"Code\":\"Unauthorized\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/.well-known/jwks.json")]
    [InlineData("/.well-known/webinar/join-token-keys")]
    public async Task Public_endpoints_need_no_api_key(string url)
    {
        using var client = fixture.CreateAnonymousClient();

        using var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_lists_the_meeting_operations()
    {
        var text = await _client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/meetings/{meetingId}/attendees\"", text);
        Assert.Contains("CreateMeeting", text);
        Assert.Contains("BatchCreateAttendee", text);
    }
}
