using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Media;

/// <summary>
/// Simulcast with stock Chromium: a presenter who joined first and then publishes with <c>{ simulcast: true }</c>
/// sends three VP8 layers (a renegotiation Chromium must accept), a viewer on the primary and one on a replica in
/// another region decode the top layer, and a viewer who asks for the lowest layer (a thumbnail) gets it.
/// </summary>
public sealed class SimulcastTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(60);

    private const string PreferLowestScript = """
        async () => {
          const frame = await window.client.setPreferredLayers(window.videoStreamId, 0);
          return frame.type;
        }
        """;

    private const string RememberVideoStreamScript = """
        () => {
          window.videoStreamId = null;
          window.client.addEventListener('stream-added', e => { if (e.detail.kind === 'video') window.videoStreamId = e.detail.streamId; });
        }
        """;

    [Fact]
    public Task A_presenter_publishing_simulcast_after_joining_reaches_viewers_at_the_top_layer_and_a_thumbnail_viewer_at_the_lowest() =>
        _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var viewer = await JoinAsync(primary, "viewer", "Receive");
        var thumbnail = await JoinAsync(primary, "thumbnail", "Receive");
        await thumbnail.Page.EvaluateAsync(RememberVideoStreamScript);
        var anna = await JoinAsync(europe, "anna-eu", "Receive");

        Assert.Equal(1280, await presenter.PublishAsync(simulcast: true));
        await presenter.MaintainResolutionAsync();
        var layers = await presenter.Page.EvaluateAsync<int>("""
            () => window.client.peerConnection.getSenders().filter(s => s.track && s.track.kind === 'video')
                    .map(s => s.getParameters().encodings.length)[0] || 0
            """);
        Assert.Equal(3, layers);

        var top = await viewer.WaitForAsync(r => r.FramesDecoded > 10 && r.FrameWidth >= 1280, MediaTimeout, "the top layer on the primary");
        _output.WriteLine($"viewer on the primary: {top}");
        var relayed = await anna.WaitForAsync(r => r.FramesDecoded > 10 && r.FrameWidth >= 1280, MediaTimeout, "the top layer through the replica");
        _output.WriteLine($"viewer on the replica: {relayed}");

        await thumbnail.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "video for the thumbnail viewer");
        Assert.Equal("preferred-layers", await thumbnail.Page.EvaluateAsync<string>(PreferLowestScript));
        var small = await thumbnail.WaitForAsync(r => r.FrameWidth is > 0 and <= 320, MediaTimeout, "the lowest layer after asking for it");
        _output.WriteLine($"thumbnail viewer: {small}");
        var later = await thumbnail.WaitForAsync(r => r.FramesDecoded > small.FramesDecoded + 20, MediaTimeout, "the lowest layer to keep playing");
        Assert.True(later.FrameWidth <= 320, $"the thumbnail went back to {later.FrameWidth} px");
    });

    [Fact]
    public Task A_viewer_capped_at_the_base_temporal_layer_decodes_a_fraction_of_the_frames_without_freezing_and_all_again_when_uncapped() =>
        _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(primary, "presenter");
        var viewer = await JoinAsync(primary, "viewer", "Receive");
        var capped = await JoinAsync(primary, "capped", "Receive");
        await capped.Page.EvaluateAsync(RememberVideoStreamScript);
        Assert.Equal(1280, await presenter.PublishAsync(simulcast: true));
        await viewer.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "video for the viewer");
        await capped.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "video for the capped viewer");

        Assert.Equal("preferred-layers", await capped.Page.EvaluateAsync<string>(
            "async () => (await window.client.setPreferredLayers(window.videoStreamId, 3, 0)).type"));
        var (cappedRate, fullRate) = await RatesAsync(capped, viewer, "capped at temporal layer 0");
        Assert.True(cappedRate <= 0.6 * fullRate, $"capped at the base temporal layer the viewer still decoded {cappedRate:0.0} frames/s against {fullRate:0.0}");
        Assert.True(cappedRate >= 2, $"capped at the base temporal layer the viewer decoded only {cappedRate:0.0} frames/s (frozen)");

        Assert.Equal("preferred-layers", await capped.Page.EvaluateAsync<string>(
            "async () => (await window.client.setPreferredLayers(window.videoStreamId, 3)).type"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            (cappedRate, fullRate) = await RatesAsync(capped, viewer, "uncapped");
            if (cappedRate >= 0.8 * fullRate)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"uncapped, the viewer still decoded {cappedRate:0.0} frames/s against {fullRate:0.0} after 30 s");
        }
    });

    /// <summary>Frames per second both pages decoded over the same four seconds.</summary>
    private async Task<(double Capped, double Full)> RatesAsync(MeetingPage capped, MeetingPage viewer, string what)
    {
        var c0 = (await capped.ReceivedAsync()).FramesDecoded;
        var v0 = (await viewer.ReceivedAsync()).FramesDecoded;
        await Task.Delay(TimeSpan.FromSeconds(4));
        var c1 = (await capped.ReceivedAsync()).FramesDecoded;
        var v1 = (await viewer.ReceivedAsync()).FramesDecoded;
        var rates = ((c1 - c0) / 4.0, (v1 - v0) / 4.0);
        _output.WriteLine($"{what}: capped viewer {rates.Item1:0.0} frames/s, other viewer {rates.Item2:0.0} frames/s");
        return rates;
    }
}
