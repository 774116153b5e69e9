using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Media;

/// <summary>Real Chromium pages publish and receive through a real SFU node process.</summary>
public sealed class BrowserMediaTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public Task Two_attendees_see_and_hear_the_presenter_and_the_presenter_receives_nothing_of_its_own() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(meeting, "presenter");
        var alice = await JoinAsync(meeting, "alice", "Receive");
        var bob = await JoinAsync(meeting, "bob", "Receive");

        Assert.Equal(1280, await presenter.PublishAsync());

        foreach (var viewer in new[] { alice, bob })
        {
            var first = await viewer.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "presenter's audio and video");
            Assert.Equal(1, first.VideoTracks);
            var later = await viewer.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 10 && r.AudioPacketsReceived > first.AudioPacketsReceived + 20,
                MediaTimeout, "frames and audio to keep arriving");
            Assert.True(later.FrameWidth > 0);
        }

        var own = await presenter.ReceivedAsync();
        Assert.Equal(0, own.FramesDecoded);
        Assert.Equal(0, own.AudioPacketsReceived);
    });

    [Fact]
    public Task The_presenters_video_bitrate_climbs_past_one_megabit_within_fifteen_seconds() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(meeting, "presenter");
        var viewer = await JoinAsync(meeting, "viewer", "Receive");
        await presenter.PublishAsync();
        await presenter.MaintainResolutionAsync();
        await viewer.WaitForAsync(r => r.FramesDecoded > 0, MediaTimeout, "the first frame");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var best = 0.0;
        var previous = await presenter.VideoBytesSentAsync();
        while (DateTime.UtcNow < deadline && best <= 1_000_000)
        {
            await Task.Delay(1000);
            var now = await presenter.VideoBytesSentAsync();
            best = Math.Max(best, (now - previous) * 8.0);
            previous = now;
        }

        var diagnostics = await presenter.SendSideDiagnosticsAsync();
        _output.WriteLine($"best one-second video bitrate: {best / 1000:0} kbit/s ({diagnostics})");
        Assert.True(best > 1_000_000, $"the presenter's video stayed at {best / 1000:0} kbit/s ({diagnostics})");
    });

    [Fact]
    public Task A_late_joiner_renders_the_presenter_on_its_keyframe_request_not_at_the_encoders_next_keyframe() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(meeting, "presenter");
        var early = await JoinAsync(meeting, "early", "Receive");
        await presenter.PublishAsync();
        await early.WaitForAsync(r => r.FramesDecoded > 30, MediaTimeout, "the presenter's video to flow");

        var late = await JoinAsync(meeting, "late", "Receive");
        await late.WaitForAsync(r => r.FramesDecoded > 0, MediaTimeout, "the late joiner's first frame");
        var elapsed = await late.MillisecondsToFirstFrameAsync();
        _output.WriteLine($"late joiner: first frame {elapsed:0} ms after join");
        Assert.NotNull(elapsed);

        // Chromium's VP8 encoder sends a keyframe on request, else every 3000 frames (100 s at 30 fps): a first frame within
        // seconds means the node asked for one when the late joiner subscribed. How fast is a benchmark's business
        // (docs/benchmarks.md: promote-frame), so the bound is generous for a loaded machine.
        Assert.True(elapsed < 5000, $"the late joiner's first frame came {elapsed:0} ms after joining");
    });
}
