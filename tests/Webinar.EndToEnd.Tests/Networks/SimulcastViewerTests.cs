using System.Diagnostics;
using System.Text.Json;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Networks;

/// <summary>
/// Simulcast, bandwidth estimation and audio fallback with real browsers: a presenter's Chromium sends three VP8 layers;
/// a viewer's Chromium on another host (a network namespace) whose downlink tc tbf narrows and widens again receives the
/// layer its link carries, audio only with a video-paused notice when not even the lowest fits, and the top layer
/// again once the limit is lifted. A viewer of a replica in another region gets the same: its node receives every layer
/// over the relay and allocates for its own audience.
/// </summary>
public sealed class SimulcastViewerTests(ViewerNamespaceSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<ViewerNamespaceSystemFixture>(system, chromium, output), IClassFixture<ViewerNamespaceSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);

    private const string WatchScript = """
        () => {
          window.videoNotices = [];
          window.client.addEventListener('video-paused', e => window.videoNotices.push('paused:' + e.detail.reason));
          window.client.addEventListener('video-resumed', () => window.videoNotices.push('resumed'));
        }
        """;

    /// <summary>The viewer's inbound video (size, frames per second, decoded frames) and audio packets, plus notices.</summary>
    private const string StatsScript = """
        async () => {
          const r = { width: 0, height: 0, fps: 0, frames: 0, audio: 0, notices: window.videoNotices.join(','), paused: window.client.pausedVideo.size };
          (await window.client.peerConnection.getStats()).forEach(s => {
            if (s.type !== 'inbound-rtp') return;
            if (s.kind === 'video') { r.width = s.frameWidth || 0; r.height = s.frameHeight || 0; r.fps = s.framesPerSecond || 0; r.frames = s.framesDecoded || 0; }
            if (s.kind === 'audio') r.audio = s.packetsReceived || 0;
          });
          return r;
        }
        """;

    private sealed record ViewerStats(int Width, int Height, double Fps, long Frames, long Audio, string Notices, int Paused);

    [Theory]
    [InlineData("primary")]
    [InlineData("replica")]
    public Task A_viewer_gets_the_layer_its_downlink_carries_audio_only_when_none_fits_and_the_top_layer_back_when_it_widens(string viewerIn) =>
        _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var watched = viewerIn == "replica" ? await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId) : primary;
        var presenter = await JoinAsync(primary, "presenter");
        Assert.Equal(1280, await presenter.PublishAsync(simulcast: true));
        await presenter.MaintainResolutionAsync();

        var viewerChromium = await _system.LaunchViewerChromiumAsync();
        try
        {
            var attendee = await _system.Api.CreateAttendeeAsync(watched.MeetingId, "viewer", "Receive");
            var viewer = await MeetingPage.OpenAsync(viewerChromium, _system.ViewerBaseAddress);
            Assert.Equal("joined:" + viewerIn, await viewer.JoinAsync(watched.SignalingUrl, attendee.JoinToken));
            await viewer.Page.EvaluateAsync(WatchScript);

            // Unconstrained: the top layer, 1280x720.
            var top = await WaitAsync(viewer, s => s.Width >= 1280 && s.Height >= 720, "the top layer (1280x720) unconstrained",
                presenter);

            // 400 kbit/s: the low layer, still fluid.
            await _system.LimitViewerDownlinkAsync(400);
            var clock = Stopwatch.StartNew();
            var low = await WaitAsync(viewer, s => s.Width is > 0 and <= 320 && s.Fps >= 15, "the low layer at 15 fps or more under 400 kbit/s", presenter);
            _output.WriteLine($"switched down to {low.Width}x{low.Height} at {low.Fps} fps {clock.Elapsed.TotalSeconds:0.0} s after the limit");

            // 60 kbit/s: video paused with the notice, audio keeps arriving.
            await _system.LimitViewerDownlinkAsync(60);
            clock.Restart();
            var paused = await WaitAsync(viewer, s => s.Notices.EndsWith("paused:bandwidth", StringComparison.Ordinal) && s.Paused == 1,
                "video paused (reason bandwidth) under 60 kbit/s", presenter);
            _output.WriteLine($"video paused {clock.Elapsed.TotalSeconds:0.0} s after the 60 kbit/s limit");
            await WaitAsync(viewer, s => s.Audio > paused.Audio + 100, "audio to keep arriving while video is paused", presenter);

            // Lifted: video resumes and climbs back to the top layer.
            await _system.LimitViewerDownlinkAsync(null);
            clock.Restart();
            await WaitAsync(viewer, s => s.Notices.EndsWith("resumed", StringComparison.Ordinal) && s.Paused == 0, "video-resumed after the limit is lifted", presenter);
            var back = await WaitAsync(viewer, s => s.Width >= 1280, "the top layer again after the limit is lifted", presenter);
            _output.WriteLine($"top layer back {clock.Elapsed.TotalSeconds:0.0} s after the limit was lifted ({back.Width}x{back.Height})");
            Assert.True(back.Frames > top.Frames);
        }
        finally
        {
            try
            {
                await _system.LimitViewerDownlinkAsync(null);
            }
            catch (InvalidOperationException)
            {
                // No limit in place.
            }

            await viewerChromium.DisposeAsync();
        }
    });

    private async Task<ViewerStats> WaitAsync(MeetingPage viewer, Func<ViewerStats, bool> condition, string what, MeetingPage presenter)
    {
        var deadline = DateTime.UtcNow + Generous;
        ViewerStats last;
        while (true)
        {
            var json = await viewer.Page.EvaluateAsync<JsonElement>(StatsScript);
            last = new ViewerStats(json.GetProperty("width").GetInt32(), json.GetProperty("height").GetInt32(), json.GetProperty("fps").GetDouble(),
                json.GetProperty("frames").GetInt64(), json.GetProperty("audio").GetInt64(), json.GetProperty("notices").GetString() ?? "",
                json.GetProperty("paused").GetInt32());
            if (condition(last))
            {
                return last;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; viewer {last}; presenter {await presenter.SendSideDiagnosticsAsync()}");
            }

            await Task.Delay(500);
        }
    }
}
