using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Archives;

/// <summary>
/// Faults during an archive, each with real processes: ffmpeg killed while it finishes, a disk that fills up, the
/// primary's node killed (and restarted, or never back), the maximum length. Each ends Failed with a reason, or
/// Available (partial where cut short), with the webhook the platform would get; the node never goes down with it.
/// </summary>
public sealed partial class ArchiveFaultTests(ArchiveFaultsSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<ArchiveFaultsSystemFixture>(system, chromium, output), IClassFixture<ArchiveFaultsSystemFixture>, IClassFixture<ChromiumFixture>, IAsyncDisposable
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromMinutes(3);
    private readonly WebhookSink _hooks = new();

    ValueTask IAsyncDisposable.DisposeAsync() => _hooks.DisposeAsync();

    [Fact]
    public Task Ffmpeg_killed_while_composing_fails_the_archive_with_its_exit_status_and_a_webhook_and_the_node_carries_on() => _system.RunAsync(_output, async () =>
    {
        var meeting = await CreateMeetingAsync("us-east-1");
        var presenter = await PublishingPresenterAsync(meeting, "presenter");
        var archiveId = (await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Composed", Resolution = "1920x1080" })).GetProperty("ArchiveId").GetGuid();
        await Task.Delay(TimeSpan.FromSeconds(6));
        await _system.Api.StopArchiveAsync(meeting.MeetingId, archiveId);

        // The node composes after the stop: its ffmpeg child dies (SIGKILL) mid-encode.
        var node = _system.Node("us-east-1").Process;
        var ffmpeg = await WaitForChildAsync(node.Id, "ffmpeg", TimeSpan.FromSeconds(60));
        Assert.Equal(0, Kill(ffmpeg, 9));
        _output.WriteLine($"killed ffmpeg {ffmpeg} of node {node.Id}");

        var failed = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        _output.WriteLine(failed.ToString());
        Assert.Equal("Failed", failed.GetProperty("Status").GetString());
        var reason = failed.GetProperty("Reason").GetString()!;
        Assert.Contains("ffmpeg failed (exit 137)", reason, StringComparison.Ordinal);
        var hook = await _hooks.WaitForArchiveEventAsync("ArchiveFailed", archiveId, TimeSpan.FromSeconds(30));
        Assert.Equal(reason, hook.GetProperty("Reason").GetString());

        Assert.False(node.HasExited, "the node exited");
        Assert.Null(await presenter.EndedReasonAsync());
        var sent = await presenter.VideoBytesSentAsync();
        await WaitUntilAsync(async () => await presenter.VideoBytesSentAsync() > sent + 20_000, "the presenter to keep publishing to the node");
    });

    [Fact]
    public Task A_full_disk_while_recording_fails_the_archive_with_ENOSPC_and_a_webhook_and_frees_the_disk() => _system.RunAsync(_output, async () =>
    {
        var meeting = await CreateMeetingAsync(ArchiveFaultsSystemFixture.SmallDiskRegion);
        var presenter = await PublishingPresenterAsync(meeting, "presenter");
        var archiveId = (await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Individual" })).GetProperty("ArchiveId").GetGuid();

        // Nobody stops it: the node's tmpfs work directory fills within seconds.
        var failed = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        _output.WriteLine(failed.ToString());
        Assert.Equal("Failed", failed.GetProperty("Status").GetString());
        var reason = failed.GetProperty("Reason").GetString()!;
        Assert.Contains("No space left on device", reason, StringComparison.Ordinal);
        var hook = await _hooks.WaitForArchiveEventAsync("ArchiveFailed", archiveId, TimeSpan.FromSeconds(30));
        Assert.Equal(reason, hook.GetProperty("Reason").GetString());

        Assert.False(_system.Node(ArchiveFaultsSystemFixture.SmallDiskRegion).Process.HasExited, "the node exited");
        Assert.Null(await presenter.EndedReasonAsync());
        // What was recorded is removed, so the disk is free for the next archive.
        await WaitUntilAsync(() => Task.FromResult(SmallDiskUsedBytes() < 16 * 1024), "the failed archive's recording to be removed from the node's disk");
    });

    [Fact]
    public Task The_primary_node_killed_mid_archive_and_restarted_finishes_a_partial_archive_that_plays() => _system.RunAsync(_output, async () =>
    {
        var meeting = await CreateMeetingAsync("us-east-1");
        var presenter = await PublishingPresenterAsync(meeting, "presenter");
        var archiveId = (await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Composed", Resolution = "640x480" })).GetProperty("ArchiveId").GetGuid();
        var sent = await presenter.VideoBytesSentAsync();
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Null(await presenter.EndedReasonAsync());
        Assert.True(await presenter.VideoBytesSentAsync() > sent + 20_000, "the presenter stopped sending while the archive ran");

        await _system.StopNodeAsync("us-east-1", crash: true);
        Assert.Equal("Started", (await _system.Api.GetArchiveAsync(archiveId)).GetProperty("Status").GetString());
        await _system.RestartNodeAsync("us-east-1");

        var done = await _system.Api.WaitForArchiveAsync(archiveId, FinishTimeout, "Available", "Failed");
        _output.WriteLine(done.ToString());
        Assert.Equal("Available", done.GetProperty("Status").GetString());
        Assert.True(done.GetProperty("Partial").GetBoolean());
        Assert.Equal("NodeRestart", done.GetProperty("Reason").GetString());
        var file = await _system.Api.DownloadAsync(done, Path.Combine(_system.ArchiveDirectory, "downloads"));
        var probe = await Ffmpeg.ProbeAsync(file);
        _output.WriteLine(probe.ToString());
        Assert.InRange(probe.DurationSeconds, 3, 9);
        Assert.Equal(new ProbedStream("video", "h264", 640, 480), probe.Video);
        Assert.Equal("aac", probe.Audio?.CodecName);
        Assert.True(await Ffmpeg.DecodeVideoFramesAsync(file) > 60);
        Assert.Equal("NodeRestart", (await _hooks.WaitForArchiveEventAsync("ArchiveStopped", archiveId, TimeSpan.FromSeconds(30))).GetProperty("Reason").GetString());
        await _hooks.WaitForArchiveEventAsync("ArchiveAvailable", archiveId, TimeSpan.FromSeconds(30));
    });

    [Fact]
    public Task The_primary_node_killed_for_good_mid_archive_leaves_it_Failed_by_the_sweep_and_replica_audiences_see_it_stop() => _system.RunAsync(_output, async () =>
    {
        const string Region = "ap-southeast-1"; // no other test of this class uses it: its node stays down
        var meeting = await CreateMeetingAsync(Region);
        var replica = await _system.Api.CreateMeetingAsync("us-east-1", meeting.MeetingId);
        await PublishingPresenterAsync(meeting, "presenter");
        var audience = await JoinAsync(replica, "viewer", "Receive");
        await audience.Page.EvaluateAsync("""
            () => {
              window.archiveEvents = [];
              window.client.addEventListener('archive-started', () => window.archiveEvents.push('started'));
              window.client.addEventListener('archive-stopped', e => window.archiveEvents.push('stopped:' + e.detail.reason));
            }
            """);
        var archiveId = (await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Individual" })).GetProperty("ArchiveId").GetGuid();
        await WaitUntilAsync(async () => (await audience.Page.EvaluateAsync<string[]>("window.archiveEvents")).SequenceEqual(["started"]), "the replica's audience to see the archive start");
        await Task.Delay(TimeSpan.FromSeconds(3));

        await _system.StopNodeAsync(Region, crash: true);
        var failed = await _system.Api.WaitForArchiveAsync(archiveId, ArchiveFaultsSystemFixture.NodeLostAfter + TimeSpan.FromSeconds(60), "Available", "Failed");
        _output.WriteLine(failed.ToString());
        Assert.Equal("Failed", failed.GetProperty("Status").GetString());
        var reason = failed.GetProperty("Reason").GetString()!;
        Assert.Contains(_system.Node(Region).NodeId, reason, StringComparison.Ordinal);
        Assert.Equal(reason, (await _hooks.WaitForArchiveEventAsync("ArchiveFailed", archiveId, TimeSpan.FromSeconds(30))).GetProperty("Reason").GetString());
        await WaitUntilAsync(async () => (await audience.Page.EvaluateAsync<string[]>("window.archiveEvents")).SequenceEqual(["started", "stopped:Failed"]),
            "the replica's audience to see the archive stop");
    });

    [Fact]
    public Task An_archive_nobody_stops_stops_itself_at_the_maximum_length_and_becomes_available() => _system.RunAsync(_output, async () =>
    {
        var meeting = await CreateMeetingAsync("us-east-1");
        await PublishingPresenterAsync(meeting, "presenter");
        var archiveId = (await _system.Api.StartArchiveAsync(meeting.MeetingId, new { OutputMode = "Composed", Resolution = "640x480" })).GetProperty("ArchiveId").GetGuid();

        var done = await _system.Api.WaitForArchiveAsync(archiveId, ArchiveFaultsSystemFixture.MaxDuration + FinishTimeout, "Available", "Failed");
        _output.WriteLine(done.ToString());
        Assert.Equal("Available", done.GetProperty("Status").GetString());
        Assert.Equal("MaxDuration", done.GetProperty("Reason").GetString());
        var max = ArchiveFaultsSystemFixture.MaxDuration.TotalSeconds;
        Assert.InRange(done.GetProperty("Duration").GetDouble(), max - 1, max + 1.5);
        var stopped = await _hooks.WaitForArchiveEventAsync("ArchiveStopped", archiveId, TimeSpan.FromSeconds(30));
        Assert.Equal("MaxDuration", stopped.GetProperty("Reason").GetString());
        await _hooks.WaitForArchiveEventAsync("ArchiveAvailable", archiveId, TimeSpan.FromSeconds(30));
    });

    /// <summary>CreateMeeting with the test's webhook receiver, retried while the region's node is not placeable (503, e.g. just restarted).</summary>
    private async Task<ApiMeeting> CreateMeetingAsync(string region)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await _system.Api.Http.PostAsJsonAsync("/meetings", new
            {
                ClientRequestToken = Guid.NewGuid().ToString(),
                MediaRegion = region,
                NotificationsConfiguration = new { WebhookUrl = _hooks.Url },
            });
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"CreateMeeting: {(int)response.StatusCode} {text}");
            var m = JsonDocument.Parse(text).RootElement.GetProperty("Meeting");
            return new ApiMeeting(m.GetProperty("MeetingId").GetGuid(), region, null, m.GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString()!);
        }
    }

    private async Task<MeetingPage> PublishingPresenterAsync(ApiMeeting meeting, string user)
    {
        var presenter = await JoinAsync(meeting, user);
        await presenter.PublishAsync();
        await presenter.MaintainResolutionAsync();
        await WaitUntilAsync(async () => await presenter.VideoBytesSentAsync() > 50_000, "the presenter's video to leave the browser");
        return presenter;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + MediaTimeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }

    /// <summary>Bytes used on the small-disk node's tmpfs work directory (every file under it).</summary>
    private long SmallDiskUsedBytes()
    {
        var root = _system.Node(ArchiveFaultsSystemFixture.SmallDiskRegion).Environment["Archives__WorkDirectory"];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    }

    /// <summary>Waits for a child process of <paramref name="parent"/> named <paramref name="name"/> (from /proc/*/stat).</summary>
    private static async Task<int> WaitForChildAsync(int parent, string name, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                string stat;
                try
                {
                    stat = await File.ReadAllTextAsync(Path.Combine(dir, "stat"));
                }
                catch (IOException)
                {
                    continue; // exited meanwhile
                }

                // pid (comm) state ppid ...
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                if (open < 0 || close < open)
                {
                    continue;
                }

                var comm = stat[(open + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                if (comm == name && fields.Length > 1 && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    return pid;
                }
            }

            await Task.Delay(20);
        }

        throw new Xunit.Sdk.XunitException($"No {name} child of process {parent} within {timeout.TotalSeconds:0} s.");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
