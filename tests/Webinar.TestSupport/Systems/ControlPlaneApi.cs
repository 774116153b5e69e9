using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Webinar.TestSupport.Systems;

public sealed record ApiMeeting(Guid MeetingId, string MediaRegion, Guid? PrimaryMeetingId, string SignalingUrl);

public sealed record ApiAttendee(Guid AttendeeId, string ExternalUserId, string JoinToken, IReadOnlyList<ApiIceServer>? IceServers = null);

/// <summary>A TURN server of a CreateAttendee response (<c>IceServers</c>).</summary>
public sealed record ApiIceServer(IReadOnlyList<string> Urls, string Username, string Credential);

/// <summary>Calls to the control plane's HTTP API (Chime-shaped JSON, Bearer key).</summary>
public sealed class ControlPlaneApi : IDisposable
{
    private readonly HttpClient _http;

    public ControlPlaneApi(Uri baseAddress, string apiKey)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public HttpClient Http => _http;

    public async Task<ApiMeeting> CreateMeetingAsync(string region, Guid? primaryMeetingId = null, int? maxCount = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["ClientRequestToken"] = Guid.NewGuid().ToString(),
            ["MediaRegion"] = region,
            ["ExternalMeetingId"] = "e2e-" + Guid.NewGuid().ToString("N")[..8],
        };
        if (primaryMeetingId is { } primary)
        {
            body["PrimaryMeetingId"] = primary;
        }

        if (maxCount is { } max)
        {
            body["MeetingFeatures"] = new { Attendee = new { MaxCount = max } };
        }

        using var response = await _http.PostAsJsonAsync("/meetings", body);
        var json = await ReadAsync(response, HttpStatusCode.Created);
        var m = json.GetProperty("Meeting");
        return new ApiMeeting(
            m.GetProperty("MeetingId").GetGuid(),
            m.GetProperty("MediaRegion").GetString()!,
            m.TryGetProperty("PrimaryMeetingId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetGuid() : null,
            m.GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString()!);
    }

    /// <summary>CreateMeeting, retried while the region has no healthy node yet (503).</summary>
    public async Task<ApiMeeting> CreateMeetingWhenPlacedAsync(string region, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                return await CreateMeetingAsync(region);
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    public async Task<ApiAttendee> CreateAttendeeAsync(Guid meetingId, string externalUserId, string? capability = null)
    {
        object body = capability is null
            ? new { ExternalUserId = externalUserId }
            : new { ExternalUserId = externalUserId, Capabilities = new { Audio = capability, Video = capability, Content = capability } };
        using var response = await _http.PostAsJsonAsync($"/meetings/{meetingId}/attendees", body);
        var a = (await ReadAsync(response, HttpStatusCode.Created)).GetProperty("Attendee");
        return new ApiAttendee(a.GetProperty("AttendeeId").GetGuid(), a.GetProperty("ExternalUserId").GetString()!, a.GetProperty("JoinToken").GetString()!, IceServers(a));
    }

    private static List<ApiIceServer>? IceServers(JsonElement attendee) =>
        attendee.TryGetProperty("IceServers", out var servers)
            ? servers.EnumerateArray().Select(s => new ApiIceServer(
                s.GetProperty("Urls").EnumerateArray().Select(u => u.GetString()!).ToList(),
                s.GetProperty("Username").GetString()!,
                s.GetProperty("Credential").GetString()!)).ToList()
            : null;

    /// <summary>BatchCreateAttendee (up to 100); returns the created attendees.</summary>
    public async Task<IReadOnlyList<ApiAttendee>> BatchCreateAttendeesAsync(Guid meetingId, IEnumerable<string> externalUserIds, string? capability = null)
    {
        var attendees = externalUserIds.Select(id => capability is null
            ? (object)new { ExternalUserId = id }
            : new { ExternalUserId = id, Capabilities = new { Audio = capability, Video = capability, Content = capability } }).ToArray();
        using var response = await _http.PostAsJsonAsync($"/meetings/{meetingId}/attendees?operation=batch-create", new { Attendees = attendees });
        var json = await ReadAsync(response, HttpStatusCode.Created);
        return json.GetProperty("Attendees").EnumerateArray()
            .Select(a => new ApiAttendee(a.GetProperty("AttendeeId").GetGuid(), a.GetProperty("ExternalUserId").GetString()!, a.GetProperty("JoinToken").GetString()!, IceServers(a)))
            .ToArray();
    }

    public async Task DeleteAttendeeAsync(Guid meetingId, Guid attendeeId)
    {
        using var response = await _http.DeleteAsync($"/meetings/{meetingId}/attendees/{attendeeId}");
        await ReadAsync(response, HttpStatusCode.NoContent);
    }

    public async Task DeleteMeetingAsync(Guid meetingId)
    {
        using var response = await _http.DeleteAsync($"/meetings/{meetingId}");
        await ReadAsync(response, HttpStatusCode.NoContent);
    }

    public void Dispose() => _http.Dispose();

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}", null, response.StatusCode);
        }

        if (text.Length == 0)
        {
            return default;
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
