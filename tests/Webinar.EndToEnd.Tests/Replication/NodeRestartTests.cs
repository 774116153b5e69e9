using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>
/// A replica's node process dies and comes back with the same id and ports: other regions never notice, and the
/// relay from the primary's node is re-established for that node's audience without the presenter doing anything.
/// </summary>
public sealed class NodeRestartTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public Task A_replica_node_crash_leaves_other_regions_playing_and_after_its_restart_its_audience_receives_the_presenter_again() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var annaAttendee = await _system.Api.CreateAttendeeAsync(europe.MeetingId, "anna-eu", "Receive");
        var anna = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        Assert.Equal("joined:replica", await anna.JoinAsync(europe.SignalingUrl, annaAttendee.JoinToken));
        var mei = await JoinAsync(asia, "mei-ap", "Receive");
        await presenter.PublishAsync();
        await anna.WaitForFramesOfAsync("presenter", 10, MediaTimeout, "the presenter in Europe");
        var meiFrames = await mei.WaitForFramesOfAsync("presenter", 10, MediaTimeout, "the presenter in Asia");

        // The eu-west-1 node crashes: its audience is disconnected, the primary's link to it goes silent and closes.
        var euNodeId = _system.Node("eu-west-1").NodeId;
        await _system.StopNodeAsync("eu-west-1", crash: true);
        await anna.Page.WaitForFunctionAsync("window.ended !== null", null, new Microsoft.Playwright.PageWaitForFunctionOptions { Timeout = 10_000 });
        await WaitForLogAsync("us-east-1", $"to node {euNodeId} closed", TimeSpan.FromSeconds(15));

        // Asia never noticed: frames keep coming after the primary gave the link to Europe up.
        meiFrames = await mei.WaitForFramesOfAsync("presenter", meiFrames + 30, MediaTimeout, "Asia to keep playing while Europe's node is down");

        // The node comes back with the same id and ports; Anna reloads and joins again, as a user would.
        var opensBefore = _system.NodeLog("us-east-1", $"to node {euNodeId} at").Count;
        await _system.RestartNodeAsync("eu-west-1");
        await anna.Page.ReloadAsync();
        var rejoined = await RetryJoinAsync(anna, europe.SignalingUrl, annaAttendee.JoinToken, TimeSpan.FromSeconds(20));
        Assert.Equal("joined:replica", rejoined);
        await anna.WaitForFramesOfAsync("presenter", 10, MediaTimeout, "the presenter in Europe after the node's restart");
        Assert.Equal(["+presenter"], await anna.PresenceAsync());

        // The primary's node accepted a new link from the restarted node; the presenter and Asia did nothing.
        var opens = _system.NodeLog("us-east-1", $"to node {euNodeId} at");
        Assert.True(opens.Count > opensBefore, "the primary's node logged no new relay link to the restarted node");
        foreach (var line in opens)
        {
            _output.WriteLine(line);
        }

        await mei.WaitForFramesOfAsync("presenter", meiFrames + 30, MediaTimeout, "Asia to keep playing after Europe's node is back");
        Assert.Null(await mei.EndedReasonAsync());
        Assert.Null(await presenter.EndedReasonAsync());
        Assert.Equal(["+presenter"], await mei.PresenceAsync());
    });

    /// <summary>A join right after the restart may land before the node has its placement back; a user retries.</summary>
    private async Task<string> RetryJoinAsync(MeetingPage page, string url, string token, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var result = await page.JoinAsync(url, token);
            _output.WriteLine($"rejoin: {result}");
            if (result.StartsWith("joined:", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(1000);
            await page.Page.ReloadAsync();
        }
    }

    private async Task WaitForLogAsync(string region, string text, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (_system.NodeLog(region, text).Count == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The {region} node did not log '{text}' within {wait.TotalSeconds:0} s.");
            }

            await Task.Delay(200);
        }

        _output.WriteLine(_system.NodeLog(region, text)[0]);
    }
}
