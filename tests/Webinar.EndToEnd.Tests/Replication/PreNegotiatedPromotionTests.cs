using Microsoft.Playwright;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>
/// The system with the spare-slot top-up pushed out of the test's reach, so any renegotiation a page sees would be one
/// the promotion itself needed.
/// </summary>
public sealed class NoTopUpSystemFixture : WebinarSystemFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraEnvironment { get; } = new Dictionary<string, string>
    {
        ["Sfu__SpareSlotTopUpDelay"] = "00:10:00",
    };
}

/// <summary>
/// Promotion with pre-negotiated slots (docs/signaling.md): a replica viewer whose join offered send slots starts
/// speaking by attaching its tracks, and the presenter and the other replica's audience receive it on spare slots, all
/// without one offer, answer or renegotiate frame after the promotion.
/// </summary>
public sealed class PreNegotiatedPromotionTests(NoTopUpSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<NoTopUpSystemFixture>(system, chromium, output), IClassFixture<NoTopUpSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(25);
    private static readonly string[] Renegotiation = [">offer", "<answer", "<renegotiate"];

    [Fact]
    public Task A_promoted_pre_negotiated_viewer_is_seen_by_the_presenter_and_the_other_replica_without_any_renegotiation_and_demotion_stops_it() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);
        var presenter = await PreNegotiatedJoinAsync(primary, "presenter");
        await presenter.PublishAsync();
        var anna = await PreNegotiatedJoinAsync(europe, "anna-eu", "Receive");
        var mei = await PreNegotiatedJoinAsync(asia, "mei-ap", "Receive");
        await anna.WaitForAsync(r => r.FramesDecoded > 5, MediaTimeout, "the presenter in eu-west-1");
        await mei.WaitForAsync(r => r.FramesDecoded > 5, MediaTimeout, "the presenter in ap-southeast-1");
        await presenter.Page.WaitForFunctionAsync("window.signalingFrames.includes('<answer')", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        var before = new Dictionary<MeetingPage, int>
        {
            [presenter] = (await presenter.SignalingFramesAsync()).Length,
            [anna] = (await anna.SignalingFramesAsync()).Length,
            [mei] = (await mei.SignalingFramesAsync()).Length,
        };

        // Anna speaks: promote, then only her tracks are attached to the send slots her join negotiated.
        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "anna-speaker");
        Assert.Equal("promoted", await anna.Page.EvaluateAsync<string>(
            "async (token) => { const f = await window.client.promote(token); return f.type; }", speaker.JoinToken));
        await anna.PublishAsync();

        await WaitForVideoFromAsync(presenter, "anna-speaker");
        await WaitForVideoFromAsync(mei, "anna-speaker");
        await presenter.WaitForAsync(r => r.AudioPacketsReceived > 20, MediaTimeout, "anna's audio at the presenter");
        var presenterFrames = await FramesSinceAsync(presenter, before[presenter]);
        var meiFrames = await FramesSinceAsync(mei, before[mei]);
        var annaFrames = await FramesSinceAsync(anna, before[anna]);
        Assert.Contains("<slots", presenterFrames);
        Assert.Contains("<slots", meiFrames);
        Assert.Empty(presenterFrames.Intersect(Renegotiation));
        Assert.Empty(meiFrames.Intersect(Renegotiation));
        Assert.Empty(annaFrames.Intersect(Renegotiation));

        // Demotion: anna's media stops reaching the presenter, her slot is freed, and still nobody renegotiates.
        await anna.Page.EvaluateAsync("async () => { await window.client.demote(); }");
        var stopped = await presenter.WaitForStableFramesAsync(TimeSpan.FromSeconds(2), MediaTimeout);
        _output.WriteLine($"presenter: video frames settled at {stopped} after the demotion");
        await presenter.Page.WaitForFunctionAsync("window.presence.includes('-anna-speaker')", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        Assert.Empty((await FramesSinceAsync(presenter, before[presenter])).Intersect(Renegotiation));
        Assert.Empty((await FramesSinceAsync(anna, before[anna])).Intersect(Renegotiation));
    });

    [Fact]
    public Task A_replica_viewer_that_does_not_pre_negotiate_still_speaks_by_re_offering_to_pre_negotiated_subscribers() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await PreNegotiatedJoinAsync(primary, "presenter");
        var attendee = await _system.Api.CreateAttendeeAsync(europe.MeetingId, "anna-eu", "Receive");
        var anna = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress, MeetingPage.SignalingFrameLog);
        Assert.Equal("joined:replica", await anna.JoinAsync(europe.SignalingUrl, attendee.JoinToken));
        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "anna-speaker");

        await anna.Page.EvaluateAsync("async (token) => { await window.client.promote(token); }", speaker.JoinToken);
        var offersBefore = (await anna.SignalingFramesAsync()).Count(f => f == ">offer");
        await anna.PublishAsync();

        await WaitForVideoFromAsync(presenter, "anna-speaker");
        Assert.True((await anna.SignalingFramesAsync()).Count(f => f == ">offer") > offersBefore, "the re-offer path sent no offer");
    });

    private async Task<MeetingPage> PreNegotiatedJoinAsync(ApiMeeting meeting, string user, string? capability = null)
    {
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, user, capability);
        var page = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress, MeetingPage.SignalingFrameLog);
        Assert.StartsWith("joined:", await page.JoinAsync(meeting.SignalingUrl, attendee.JoinToken, preNegotiate: true));
        return page;
    }

    private static async Task<string[]> FramesSinceAsync(MeetingPage page, int from) => (await page.SignalingFramesAsync())[from..];

    private static Task WaitForVideoFromAsync(MeetingPage page, string externalUserId) =>
        page.Page.WaitForFunctionAsync(
            "(user) => { const v = document.querySelector(`video[data-user='${user}']`); return v && v.videoWidth > 0; }",
            externalUserId, new PageWaitForFunctionOptions { Timeout = 20_000 });
}
