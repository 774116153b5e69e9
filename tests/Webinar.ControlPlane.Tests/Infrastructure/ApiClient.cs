using System.Net;
using System.Text;
using System.Text.Json;

namespace Webinar.ControlPlane.Tests.Infrastructure;

/// <summary>Calls the HTTP API as a platform would and reads the JSON it answers.</summary>
internal static class ApiClient
{
    public sealed record Response(HttpStatusCode Status, JsonElement Body)
    {
        public string? Code => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("Code", out var c) ? c.GetString() : null;
    }

    public static Task<Response> PostAsync(HttpClient client, string url, object body) =>
        SendAsync(client, HttpMethod.Post, url, JsonSerializer.Serialize(body));

    public static Task<Response> PostRawAsync(HttpClient client, string url, string json) =>
        SendAsync(client, HttpMethod.Post, url, json);

    public static Task<Response> GetAsync(HttpClient client, string url) => SendAsync(client, HttpMethod.Get, url, null);

    public static Task<Response> DeleteAsync(HttpClient client, string url) => SendAsync(client, HttpMethod.Delete, url, null);

    public static async Task<Response> SendAsync(HttpClient client, HttpMethod method, string url, string? json)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Response(response.StatusCode, body);
    }

    /// <summary>Creates a meeting and returns its MeetingId; asserts 201.</summary>
    public static async Task<Guid> CreateMeetingAsync(HttpClient client, string region = "us-east-1", Guid? primary = null, int? maxCount = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["ClientRequestToken"] = Guid.NewGuid().ToString("N"),
            ["MediaRegion"] = region,
        };
        if (primary is not null)
        {
            body["PrimaryMeetingId"] = primary;
        }

        if (maxCount is not null)
        {
            body["MeetingFeatures"] = new { Attendee = new { MaxCount = maxCount } };
        }

        var response = await PostAsync(client, "/meetings", body);
        Assert.True(response.Status == HttpStatusCode.Created, $"CreateMeeting answered {response.Status}: {response.Body}");
        return response.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid();
    }

    public static async Task<JsonElement> CreateAttendeeAsync(HttpClient client, Guid meetingId, string user, object? capabilities = null)
    {
        var response = await PostAsync(client, $"/meetings/{meetingId}/attendees", new { ExternalUserId = user, Capabilities = capabilities });
        Assert.True(response.Status == HttpStatusCode.Created, $"CreateAttendee answered {response.Status}: {response.Body}");
        return response.Body.GetProperty("Attendee");
    }
}
