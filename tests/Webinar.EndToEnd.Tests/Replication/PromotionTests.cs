using Microsoft.Playwright;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>A replica attendee promoted into the primary over the connection it already has, and demoted again.</summary>
public sealed class PromotionTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(25);

    [Fact]
    public Task A_promoted_replica_attendee_is_seen_by_the_presenter_and_the_other_replica_and_demotion_stops_it() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var mei = await JoinAsync(asia, "mei-ap", "Receive");
        await presenter.PublishAsync();
        await anna.WaitForAsync(r => r.FramesDecoded > 5, MediaTimeout, "the presenter in eu-west-1");
        await mei.WaitForAsync(r => r.FramesDecoded > 5, MediaTimeout, "the presenter in ap-southeast-1");

        // The platform makes anna a primary attendee; her page switches over its existing connection.
        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "anna-speaker");
        var iceBefore = await SelectedCandidatePairAsync(anna.Page);
        Assert.Equal("promoted", await anna.Page.EvaluateAsync<string>(
            "async (token) => { const f = await window.client.promote(token); return f.type; }", speaker.JoinToken));
        await anna.PublishAsync();

        await presenter.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "anna's media at the presenter");
        await mei.WaitForAsync(r => r.VideoTracks >= 2, MediaTimeout, "anna's video in ap-southeast-1");
        await WaitForVideoFromAsync(mei, "anna-speaker");
        Assert.Contains("+anna-speaker", await presenter.PresenceAsync());
        Assert.Contains("+anna-speaker", await mei.PresenceAsync());
        Assert.Equal(iceBefore, await SelectedCandidatePairAsync(anna.Page));

        // Demotion: anna's media stops reaching the presenter, and she leaves the primary's presence.
        await anna.Page.EvaluateAsync("async () => { await window.client.demote(); }");
        var stopped = await presenter.WaitForStableFramesAsync(TimeSpan.FromSeconds(2), MediaTimeout);
        _output.WriteLine($"presenter: video frames settled at {stopped} after the demotion");
        await presenter.Page.WaitForFunctionAsync("window.presence.includes('-anna-speaker')", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
    });

    [Fact]
    public Task A_promoted_attendee_who_disconnects_leaves_the_primary_and_its_media_stops() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "anna-speaker");
        await anna.Page.EvaluateAsync("async (token) => { await window.client.promote(token); }", speaker.JoinToken);
        await anna.PublishAsync();
        await presenter.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "anna's video at the presenter");

        await anna.Page.Context.CloseAsync();

        await presenter.Page.WaitForFunctionAsync("window.presence.includes('-anna-speaker')", null, new PageWaitForFunctionOptions { Timeout = 15_000 });
        await presenter.WaitForStableFramesAsync(TimeSpan.FromSeconds(2), MediaTimeout);
    });

    [Fact]
    public Task A_promotion_into_a_full_primary_on_another_node_is_undone_with_primary_full_and_counts_once_admitted() => _system.RunAsync(_output, async () =>
    {
        // A primary that holds one connection, taken by its presenter.
        var primary = await _system.Api.CreateMeetingAsync("us-east-1", maxCount: 1);
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var now = DateTimeOffset.UtcNow;
        var speakerToken = _system.Signer.Sign(new Webinar.Contracts.JoinTokens.JoinTokenClaims(primary.MeetingId, Guid.NewGuid(), "anna-speaker",
            null, Webinar.Contracts.Meetings.AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1)));

        // The replica's node answers promoted at once; the primary's node, which owns the limit, refuses: undone.
        Assert.Equal("primary-full", await anna.Page.EvaluateAsync<string>(PromoteOutcome, new object[] { speakerToken, 15_000 }));
        Assert.DoesNotContain("+anna-speaker", await presenter.PresenceAsync());

        // The presenter leaves: the place is free, and the promoted attendee now holds it.
        await presenter.Page.Context.CloseAsync();
        var outcome = "";
        for (var attempt = 0; attempt < 20 && outcome != "promoted"; attempt++)
        {
            await Task.Delay(250);
            outcome = await anna.Page.EvaluateAsync<string>(PromoteOutcome, new object[] { speakerToken, 3_000 });
        }

        Assert.Equal("promoted", outcome);
        var second = _system.Signer.Sign(new Webinar.Contracts.JoinTokens.JoinTokenClaims(primary.MeetingId, Guid.NewGuid(), "second-presenter",
            null, Webinar.Contracts.Meetings.AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1)));
        var page = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        Assert.Equal("meeting-full", await page.JoinAsync(primary.SignalingUrl, second));
    });

    /// <summary>
    /// promote, then the node's own demoted if one follows within the given milliseconds: its reason; 'promoted' when none
    /// came; an error's code when promote was refused outright.
    /// </summary>
    private const string PromoteOutcome = """
        async ([token, wait]) => {
          let reason = null;
          const onDemoted = (e) => { if (e.detail.id === undefined) reason = e.detail.reason; };
          window.client.addEventListener('demoted', onDemoted);
          try {
            try { await window.client.promote(token); } catch (e) { return e.code; }
            const until = Date.now() + wait;
            while (reason === null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
            return reason ?? 'promoted';
          } finally { window.client.removeEventListener('demoted', onDemoted); }
        }
        """;

    [Fact]
    public Task A_presenter_connected_to_the_primary_cannot_switch_to_a_replica() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(primary, "presenter");
        var other = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter-2");

        var code = await presenter.Page.EvaluateAsync<string>(
            "async (token) => { try { await window.client.promote(token); return 'promoted'; } catch (e) { return e.code; } }", other.JoinToken);
        Assert.Equal("not-allowed", code);
        var demote = await presenter.Page.EvaluateAsync<string>(
            "async () => { try { await window.client.demote(); return 'demoted'; } catch (e) { return e.code; } }");
        Assert.Equal("not-allowed", demote);
    });

    private static Task<string> SelectedCandidatePairAsync(IPage page) => page.EvaluateAsync<string>("""
        async () => {
          let id = '';
          (await window.client.peerConnection.getStats()).forEach(s => { if (s.type === 'transport') id = s.selectedCandidatePairId + '/' + s.dtlsState; });
          return id;
        }
        """);

    private static Task WaitForVideoFromAsync(MeetingPage page, string externalUserId) =>
        page.Page.WaitForFunctionAsync(
            "(user) => { const v = document.querySelector(`video[data-user='${user}']`); return v && v.videoWidth > 0; }",
            externalUserId, new PageWaitForFunctionOptions { Timeout = 20_000 });
}
