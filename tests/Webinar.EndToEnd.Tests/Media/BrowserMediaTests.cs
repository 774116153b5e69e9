using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Media;

/// <summary>Real Chromium pages publish and receive through a real SFU node process.</summary>
public sealed class BrowserMediaTests : IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(20);

    private readonly WebinarSystemFixture _system;
    private readonly ChromiumFixture _chromium;
    private readonly ITestOutputHelper _output;

    public BrowserMediaTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _system = system;
        _chromium = chromium;
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _chromium.CloseAllPagesAsync();

    [Fact]
    public Task Two_attendees_see_and_hear_the_presenter_and_the_presenter_receives_nothing_of_its_own() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await OpenAndJoinAsync(meeting, "presenter");
        var alice = await OpenAndJoinAsync(meeting, "alice", "Receive");
        var bob = await OpenAndJoinAsync(meeting, "bob", "Receive");

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
        var presenter = await OpenAndJoinAsync(meeting, "presenter");
        var viewer = await OpenAndJoinAsync(meeting, "viewer", "Receive");
        await presenter.PublishAsync();
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

        _output.WriteLine($"best one-second video bitrate: {best / 1000:0} kbit/s");
        Assert.True(best > 1_000_000, $"the presenter's video stayed at {best / 1000:0} kbit/s");
    });

    [Fact]
    public Task A_late_joiner_renders_the_presenter_within_a_second_of_joining() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await OpenAndJoinAsync(meeting, "presenter");
        var early = await OpenAndJoinAsync(meeting, "early", "Receive");
        await presenter.PublishAsync();
        await early.WaitForAsync(r => r.FramesDecoded > 30, MediaTimeout, "the presenter's video to flow");

        var late = await OpenAndJoinAsync(meeting, "late", "Receive");
        await late.WaitForAsync(r => r.FramesDecoded > 0, MediaTimeout, "the late joiner's first frame");
        var elapsed = await late.MillisecondsToFirstFrameAsync();
        _output.WriteLine($"late joiner: first frame {elapsed:0} ms after join");
        Assert.NotNull(elapsed);
        Assert.True(elapsed < 1000, $"the late joiner's first frame came {elapsed:0} ms after joining");
    });

    private async Task<MeetingPage> OpenAndJoinAsync(ApiMeeting meeting, string user, string? capability = null)
    {
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, user, capability);
        var page = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        var joined = await page.JoinAsync(meeting.SignalingUrl, attendee.JoinToken);
        Assert.StartsWith("joined:", joined);
        return page;
    }
}
