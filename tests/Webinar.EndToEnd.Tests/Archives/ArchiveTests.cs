using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Archives;

/// <summary>Archives of a real Chromium presenter through a real node, checked with ffprobe/ffmpeg and played back in Chromium.</summary>
public sealed class ArchiveTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromMinutes(3);

    private string Downloads => Path.Combine(_system.ArchiveDirectory, "downloads");

    [Fact]
    public Task A_composed_archive_of_ten_seconds_is_a_ten_second_h264_aac_mp4_that_decodes_and_plays_in_chromium() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await PublishingPresenterAsync(meeting, "presenter");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var started = await _system.Api.StartArchiveAsync(meeting.MeetingId,
            new { Name = "ten seconds", OutputMode = "Composed", HasAudio = true, HasVideo = true, Resolution = "1280x720", Layout = "Grid" });
        var startCall = clock.Elapsed;
        Assert.Equal("Started", started.GetProperty("Status").GetString());
        var archiveId = started.GetProperty("ArchiveId").GetGuid();
        // The archive runs from its CreatedAt (the control plane's clock, this machine's): stop it ten seconds later.
        var stopAt = started.GetProperty("CreatedAt").GetDateTimeOffset() + TimeSpan.FromSeconds(10);
        await Task.Delay(stopAt - DateTimeOffset.UtcNow);
        clock.Restart();
        var stopped = await _system.Api.StopArchiveAsync(meeting.MeetingId, archiveId);
        _output.WriteLine($"StartArchive answered in {startCall.TotalMilliseconds:0} ms, StopArchive in {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal("Stopped", stopped.GetProperty("Status").GetString());

        var available = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        Assert.True(available.GetProperty("Status").GetString() == "Available", available.ToString());
        var file = await _system.Api.DownloadAsync(available, Downloads);
        Assert.Equal(new FileInfo(file).Length, available.GetProperty("Size").GetInt64());

        var probe = await Ffmpeg.ProbeAsync(file);
        _output.WriteLine($"composed: {probe}");
        Assert.InRange(probe.DurationSeconds, 9.0, 11.0);
        Assert.InRange(available.GetProperty("Duration").GetDouble(), 9.0, 11.0);
        Assert.Equal(new ProbedStream("video", "h264", 1280, 720), probe.Video);
        Assert.Equal("aac", probe.Audio?.CodecName);
        var frames = await Ffmpeg.DecodeVideoFramesAsync(file);
        Assert.InRange(frames, 250, 330);

        var playback = await PlayAsync(available.GetProperty("Url").GetString()!);
        _output.WriteLine($"playback: {playback}");
        Assert.True(playback.StartsWith("ok", StringComparison.Ordinal), playback);
        GC.KeepAlive(presenter);
    });

    [Fact]
    public Task An_individual_archive_is_a_zip_of_one_webm_per_track_with_a_manifest() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        await PublishingPresenterAsync(meeting, "speaker-1");

        var started = await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Individual" });
        var archiveId = started.GetProperty("ArchiveId").GetGuid();
        await Task.Delay(TimeSpan.FromSeconds(6));
        await _system.Api.StopArchiveAsync(meeting.MeetingId, archiveId);
        var available = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        Assert.True(available.GetProperty("Status").GetString() == "Available", available.ToString());
        var zipPath = await _system.Api.DownloadAsync(available, Downloads);

        var extracted = Path.Combine(Downloads, archiveId.ToString("N"));
        ZipFile.ExtractToDirectory(zipPath, extracted);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(extracted, "manifest.json")));
        var files = manifest.RootElement.GetProperty("Files").EnumerateArray().ToList();
        Assert.Equal("audio,video", string.Join(",", files.Select(f => f.GetProperty("Kind").GetString()).Order()));
        foreach (var f in files)
        {
            Assert.Equal("speaker-1", f.GetProperty("ExternalUserId").GetString());
            var start = f.GetProperty("StartOffset").GetDouble();
            var stop = f.GetProperty("StopOffset").GetDouble();
            // Each file's span on the archive's timeline (StartedAt to StoppedAt): its first frame comes once
            // ArchiveStarted reached the node (and, for video, the next keyframe), how long after depends on the load.
            var duration = manifest.RootElement.GetProperty("Duration").GetDouble();
            Assert.InRange(duration, 5.5, 30);
            Assert.InRange(start, 0, duration - 2);
            Assert.InRange(stop, start + 2, duration + 0.5);
            var probe = await Ffmpeg.ProbeAsync(Path.Combine(extracted, f.GetProperty("FileName").GetString()!));
            _output.WriteLine($"{f}: {probe}");
            var kind = f.GetProperty("Kind").GetString();
            var stream = Assert.Single(probe.Streams);
            Assert.Equal(kind == "video" ? "vp8" : "opus", stream.CodecName);
            Assert.InRange(probe.DurationSeconds, stop - start - 1.5, stop - start + 0.5);
        }
    });

    [Fact]
    public Task A_meeting_with_ArchiveMode_Always_is_archived_from_its_first_connection_until_it_is_deleted() => _system.RunAsync(_output, async () =>
    {
        using var response = await _system.Api.Http.PostAsJsonAsync("/meetings", new { ClientRequestToken = Guid.NewGuid().ToString(), MediaRegion = "us-east-1", ArchiveMode = "Always" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Meeting");
        Assert.Equal("Always", created.GetProperty("ArchiveMode").GetString());
        var meeting = new ApiMeeting(created.GetProperty("MeetingId").GetGuid(), "us-east-1", null, created.GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString()!);
        Assert.Empty(await _system.Api.ListArchivesAsync(meeting.MeetingId));

        await PublishingPresenterAsync(meeting, "host");
        var deadline = DateTime.UtcNow + MediaTimeout;
        JsonElement[] archives;
        while ((archives = await _system.Api.ListArchivesAsync(meeting.MeetingId)).Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        var archive = Assert.Single(archives);
        Assert.Equal("Started", archive.GetProperty("Status").GetString());
        await Task.Delay(TimeSpan.FromSeconds(4));
        await _system.Api.DeleteMeetingAsync(meeting.MeetingId);

        var done = await _system.Api.WaitForArchiveAsync(archive.GetProperty("ArchiveId").GetGuid(), FinishTimeout, "Available", "Failed");
        Assert.True(done.GetProperty("Status").GetString() == "Available", done.ToString());
        Assert.Equal("MeetingEnded", done.GetProperty("Reason").GetString());
        Assert.InRange(done.GetProperty("Duration").GetDouble(), 3, 30);
    });

    [Fact]
    public Task A_moderator_starts_and_stops_the_archive_over_signalling_a_plain_attendee_is_refused_and_replica_audiences_see_the_indicator() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        using var created = await _system.Api.Http.PostAsJsonAsync($"/meetings/{primary.MeetingId}/attendees", new { ExternalUserId = "host", Role = "Moderator" });
        var host = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Attendee");
        Assert.Equal("Moderator", host.GetProperty("Role").GetString());

        var moderator = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        Assert.StartsWith("joined:", await moderator.JoinAsync(primary.SignalingUrl, host.GetProperty("JoinToken").GetString()!));
        var plain = await JoinAsync(primary, "guest");
        var audience = await JoinAsync(replica, "viewer", "Receive");
        foreach (var page in new[] { moderator, plain, audience })
        {
            await page.Page.EvaluateAsync("""
                () => {
                  window.archiveEvents = [];
                  window.client.addEventListener('archive-started', () => window.archiveEvents.push('started'));
                  window.client.addEventListener('archive-stopped', e => window.archiveEvents.push('stopped:' + e.detail.reason));
                }
                """);
        }

        const string Command = "async (what) => { try { await (what === 'start' ? window.client.startArchive() : window.client.stopArchive()); return 'ok'; } catch (e) { return e.code; } }";
        Assert.Equal("not-allowed", await plain.Page.EvaluateAsync<string>(Command, "start"));
        Assert.Empty(await _system.Api.ListArchivesAsync(primary.MeetingId));

        Assert.Equal("ok", await moderator.Page.EvaluateAsync<string>(Command, "start"));
        var archive = Assert.Single(await _system.Api.ListArchivesAsync(primary.MeetingId));
        Assert.Equal("Started", archive.GetProperty("Status").GetString());
        Assert.Equal("archive-in-progress", await moderator.Page.EvaluateAsync<string>(Command, "start"));
        Assert.Equal("not-allowed", await plain.Page.EvaluateAsync<string>(Command, "stop"));

        foreach (var page in new[] { plain, audience })
        {
            await WaitForArchiveEventsAsync(page, "started");
        }

        Assert.Equal("ok", await moderator.Page.EvaluateAsync<string>(Command, "stop"));
        foreach (var page in new[] { moderator, plain, audience })
        {
            await WaitForArchiveEventsAsync(page, "started", "stopped:Moderator");
        }

        Assert.Equal("Moderator", (await _system.Api.GetArchiveAsync(archive.GetProperty("ArchiveId").GetGuid())).GetProperty("Reason").GetString());
    });

    [Fact]
    public Task A_replica_viewer_promoted_mid_archive_gets_a_tile_in_the_composed_archive_that_goes_dark_when_demoted() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await PublishingPresenterAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var started = await _system.Api.StartArchiveAsync(primary.MeetingId, new { OutputMode = "Composed", Resolution = "1280x720", Layout = "Grid" });
        var archiveId = started.GetProperty("ArchiveId").GetGuid();
        var createdAt = started.GetProperty("CreatedAt").GetDateTimeOffset();
        double ArchiveTime() => (DateTimeOffset.UtcNow - createdAt).TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(4));

        // Anna is promoted into the primary over her replica connection and publishes; the presenter sees her.
        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "anna-speaker");
        Assert.Equal("promoted", await anna.Page.EvaluateAsync<string>("async (token) => (await window.client.promote(token)).type", speaker.JoinToken));
        await anna.PublishAsync();
        await presenter.WaitForFramesOfAsync("anna-speaker", 10, MediaTimeout, "anna's video at the presenter");
        var promotedAt = ArchiveTime();
        await Task.Delay(TimeSpan.FromSeconds(6));

        // Demoted, she leaves the primary; the archive runs on a few seconds more.
        await anna.Page.EvaluateAsync("async () => { await window.client.demote(); }");
        await presenter.Page.WaitForFunctionAsync("window.presence.includes('-anna-speaker')", null, new Microsoft.Playwright.PageWaitForFunctionOptions { Timeout = 15_000 });
        var demotedAt = ArchiveTime();
        await Task.Delay(TimeSpan.FromSeconds(4));
        await _system.Api.StopArchiveAsync(primary.MeetingId, archiveId);
        _output.WriteLine($"promoted at {promotedAt:0.0} s, demoted at {demotedAt:0.0} s of the archive");

        var available = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        Assert.True(available.GetProperty("Status").GetString() == "Available", available.ToString());
        var file = await _system.Api.DownloadAsync(available, Downloads);

        // Grid of the archive's two video tracks: the presenter's cell on the left, anna's on the right (each
        // 640x720; the centre 320x240 of a cell is inside its picture). Black is luma 16.
        async Task<(double Left, double Right)> CellsAt(double t) =>
            (await Ffmpeg.MeanLumaAsync(file, t, 160, 240, 320, 240), await Ffmpeg.MeanLumaAsync(file, t, 800, 240, 320, 240));
        var before = await CellsAt(2);
        var during = await CellsAt(promotedAt + 3);
        var after = await CellsAt(Math.Min(demotedAt + 2.5, available.GetProperty("Duration").GetDouble() - 0.5));
        _output.WriteLine($"mean luma (left, right): before {before}, promoted {during}, demoted {after}");
        Assert.True(before.Left > 40, $"the presenter's cell is dark at 2 s: {before}");
        Assert.True(before.Right < 20, $"anna's cell shows something before her promotion: {before}");
        Assert.True(during.Right > 40, $"anna's cell is dark while she was promoted: {during}");
        Assert.True(during.Left > 40, $"the presenter's cell is dark while anna was promoted: {during}");
        Assert.True(after.Right < 20, $"anna's cell still shows her after the demotion: {after}");
    });

    private static async Task WaitForArchiveEventsAsync(MeetingPage page, params string[] expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string[] seen;
        while (!(seen = await page.Page.EvaluateAsync<string[]>("window.archiveEvents")).SequenceEqual(expected))
        {
            Assert.True(DateTime.UtcNow < deadline, $"archive events: [{string.Join(", ", seen)}], expected [{string.Join(", ", expected)}]");
            await Task.Delay(200);
        }
    }

    /// <summary>Joins a presenter and publishes; returns once its video is leaving the browser.</summary>
    private async Task<MeetingPage> PublishingPresenterAsync(ApiMeeting meeting, string user)
    {
        var presenter = await JoinAsync(meeting, user);
        await presenter.PublishAsync();
        await presenter.MaintainResolutionAsync();
        var deadline = DateTime.UtcNow + MediaTimeout;
        while (await presenter.VideoBytesSentAsync() < 50_000)
        {
            Assert.True(DateTime.UtcNow < deadline, "the presenter's video never left the browser");
            await Task.Delay(200);
        }

        return presenter;
    }

    /// <summary>Plays <paramref name="url"/> in a &lt;video&gt;: "ok ..." when currentTime advances and a seek to 6 s lands and plays on.</summary>
    private async Task<string> PlayAsync(string url)
    {
        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(_system.BaseAddress + "index.html");
        return await page.EvaluateAsync<string>("""
            async (url) => {
              const v = document.createElement('video');
              v.muted = true; v.preload = 'auto'; v.src = url;
              document.body.appendChild(v);
              const wait = (ms) => new Promise(r => setTimeout(r, ms));
              try { await v.play(); } catch (e) { return 'play failed: ' + e + ' error=' + (v.error && v.error.code); }
              for (let i = 0; i < 100 && v.currentTime < 1; i++) await wait(100);
              if (v.currentTime < 1) return 'currentTime stuck at ' + v.currentTime;
              const seeked = new Promise(r => v.addEventListener('seeked', r, { once: true }));
              v.currentTime = 6;
              await Promise.race([seeked, wait(10000)]);
              const after = v.currentTime;
              await wait(1000);
              if (after < 5.9 || v.currentTime <= after) return `seek failed: after=${after} now=${v.currentTime}`;
              return `ok duration=${v.duration} after-seek=${after} now=${v.currentTime}`;
            }
            """, url);
    }
}
