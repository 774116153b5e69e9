using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>
/// One webinar across three SFU node processes (one per region): the primary's node relays presenter media to the
/// replicas' nodes over relay links set up through RabbitMQ; audiences in Chromium receive it there.
/// </summary>
public sealed class MultiRegionTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(25);

    [Fact]
    public Task Audiences_in_two_other_regions_see_and_hear_the_presenter_and_only_the_primarys_presence() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);

        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var erik = await JoinAsync(europe, "erik-eu", "Receive");
        var mei = await JoinAsync(asia, "mei-ap", "Receive");
        await presenter.PublishAsync();

        foreach (var viewer in new[] { anna, erik, mei })
        {
            var first = await viewer.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "the presenter's media over the relay");
            await viewer.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 10, MediaTimeout, "frames to keep coming");
        }

        // Replica audiences see the presenter joining, and nobody else: never another replica attendee.
        foreach (var viewer in new[] { anna, erik, mei })
        {
            Assert.Equal(["+presenter"], await viewer.PresenceAsync());
        }

        // The primary's attendees never see replica attendees.
        Assert.Empty(await presenter.PresenceAsync());
        var own = await presenter.ReceivedAsync();
        Assert.Equal(0, own.FramesDecoded);
    });

    [Fact]
    public Task A_replica_on_the_primarys_own_node_gets_the_presenter_in_process() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var sameRegion = await _system.Api.CreateMeetingAsync("us-east-1", primary.MeetingId);
        Assert.Equal(primary.SignalingUrl, sameRegion.SignalingUrl);

        var linksBefore = _system.NodeLog("us-east-1", "Relay link").Count;
        var presenter = await JoinAsync(primary, "presenter");
        var viewer = await JoinAsync(sameRegion, "viewer-local", "Receive");
        await presenter.PublishAsync();

        await viewer.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "the presenter on the same node");
        Assert.Equal(["+presenter"], await viewer.PresenceAsync());
        Assert.Equal(linksBefore, _system.NodeLog("us-east-1", "Relay link").Count);
        // Both browsers' DTLS handshakes ran against the node's OpenSSL server (libssl3), not the BouncyCastle fallback.
        Assert.NotEmpty(_system.NodeLog("us-east-1", "DTLS server engine: OpenSsl"));
    });

    [Fact]
    public Task A_replica_attendee_cannot_publish() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var viewer = await JoinAsync(replica, "viewer-eu", "Receive");

        var refusal = await viewer.Page.EvaluateAsync<string>("""
            async () => {
              const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
              try { await window.client.publish(stream); return 'published'; } catch (e) { return e.code; }
            }
            """);
        Assert.Equal("not-allowed", refusal);
    });

    [Fact]
    public Task Deleting_the_primary_ends_every_session_in_every_region() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);
        var pages = new[]
        {
            await JoinAsync(primary, "presenter"),
            await JoinAsync(europe, "viewer-eu", "Receive"),
            await JoinAsync(asia, "viewer-ap", "Receive"),
        };

        await _system.Api.DeleteMeetingAsync(primary.MeetingId);

        foreach (var page in pages)
        {
            await page.Page.WaitForFunctionAsync("window.ended !== null", null, new Microsoft.Playwright.PageWaitForFunctionOptions { Timeout = 10_000 });
            Assert.Equal("deleted", await page.Page.EvaluateAsync<string>("window.ended.reason"));
        }
    });
}
