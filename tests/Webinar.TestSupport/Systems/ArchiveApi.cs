using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Webinar.TestSupport.Systems;

/// <summary>The archive calls of the control plane's API, as a platform makes them.</summary>
public static class ArchiveApi
{
    public static async Task<JsonElement> StartArchiveAsync(this ControlPlaneApi api, Guid meetingId, object body)
    {
        using var response = await api.Http.PostAsJsonAsync($"/meetings/{meetingId}/archives", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"StartArchive: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("Archive").Clone();
    }

    public static async Task<JsonElement> StopArchiveAsync(this ControlPlaneApi api, Guid meetingId, Guid archiveId)
    {
        using var response = await api.Http.PostAsync($"/meetings/{meetingId}/archives/{archiveId}/stop", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"StopArchive: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("Archive").Clone();
    }

    public static async Task<JsonElement> GetArchiveAsync(this ControlPlaneApi api, Guid archiveId)
    {
        var text = await api.Http.GetStringAsync($"/archives/{archiveId}");
        return JsonDocument.Parse(text).RootElement.GetProperty("Archive").Clone();
    }

    public static async Task<JsonElement[]> ListArchivesAsync(this ControlPlaneApi api, Guid meetingId)
    {
        var text = await api.Http.GetStringAsync($"/meetings/{meetingId}/archives");
        return JsonDocument.Parse(text).RootElement.GetProperty("Archives").EnumerateArray().Select(a => a.Clone()).ToArray();
    }

    /// <summary>Polls GetArchive until its Status is one of <paramref name="statuses"/>.</summary>
    public static async Task<JsonElement> WaitForArchiveAsync(this ControlPlaneApi api, Guid archiveId, TimeSpan timeout, params string[] statuses)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var archive = await api.GetArchiveAsync(archiveId);
            var status = archive.GetProperty("Status").GetString()!;
            if (statuses.Contains(status))
            {
                return archive;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Archive {archiveId} is still {status} after {timeout.TotalSeconds:0} s: {archive}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Downloads the archive's content through its signed Url, with a range request first (206), then the whole file.</summary>
    public static async Task<string> DownloadAsync(this ControlPlaneApi api, JsonElement archive, string directory)
    {
        var url = archive.GetProperty("Url").GetString()!;
        using var anonymous = new HttpClient { BaseAddress = api.Http.BaseAddress };
        using (var partial = new HttpRequestMessage(HttpMethod.Get, url))
        {
            partial.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
            using var response = await anonymous.SendAsync(partial);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(100, (await response.Content.ReadAsByteArrayAsync()).Length);
        }

        var bytes = await anonymous.GetByteArrayAsync(url);
        Directory.CreateDirectory(directory);
        var name = archive.GetProperty("OutputMode").GetString() == "Individual" ? "archive.zip" : "archive.mp4";
        var path = Path.Combine(directory, archive.GetProperty("ArchiveId").GetString() + "-" + name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}
