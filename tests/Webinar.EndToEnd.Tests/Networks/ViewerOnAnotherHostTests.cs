using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Networks;

/// <summary>
/// A viewer on another machine (a network namespace of its own behind a veth pair) with a stock Chromium: it joins a
/// replica and decodes the presenter's video over UDP, and, with every UDP datagram it sends dropped by iptables,
/// over ICE-TCP to the node's passive candidate.
/// </summary>
public sealed class ViewerOnAnotherHostTests(ViewerNamespaceSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<ViewerNamespaceSystemFixture>(system, chromium, output), IClassFixture<ViewerNamespaceSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(40);

    [Fact]
    public Task A_viewer_on_another_host_joins_a_replica_and_decodes_the_presenter_over_udp() => _system.RunAsync(_output, async () =>
    {
        var pair = await WatchFromViewerHostAsync();
        Assert.StartsWith("udp ", pair, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", pair, StringComparison.Ordinal);
    });

    [Fact]
    public Task A_viewer_whose_network_drops_udp_connects_over_ice_tcp() => _system.RunAsync(_output, async () =>
    {
        await _system.BlockViewerUdpAsync(block: true);
        try
        {
            var pair = await WatchFromViewerHostAsync();
            Assert.StartsWith("tcp ", pair, StringComparison.Ordinal);
        }
        finally
        {
            await _system.BlockViewerUdpAsync(block: false);
        }
    });

    /// <summary>A presenter in the root namespace publishes; the viewer's Chromium joins a replica; returns the viewer's selected pair.</summary>
    private async Task<string> WatchFromViewerHostAsync()
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        Assert.Contains(_system.HostAddress, replica.SignalingUrl, StringComparison.Ordinal);

        var presenter = await JoinAsync(primary, "presenter");
        await presenter.PublishAsync();

        var viewerChromium = await _system.LaunchViewerChromiumAsync();
        try
        {
            var attendee = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "viewer", "Receive");
            var viewer = await MeetingPage.OpenAsync(viewerChromium, _system.ViewerBaseAddress);
            Assert.Equal("joined:replica", await viewer.JoinAsync(replica.SignalingUrl, attendee.JoinToken));
            var first = await viewer.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "the presenter's video on the viewer's host");
            await viewer.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 30, MediaTimeout, "the video to keep arriving");
            var pair = await viewer.SelectedCandidatePairAsync();
            _output.WriteLine($"viewer's selected candidate pair: {pair}");
            Assert.NotNull(pair);
            Assert.Contains(_system.ViewerAddress, pair, StringComparison.Ordinal);
            return pair;
        }
        finally
        {
            await viewerChromium.DisposeAsync();
        }
    }
}
