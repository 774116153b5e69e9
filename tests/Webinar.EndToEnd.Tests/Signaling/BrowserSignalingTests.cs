using Microsoft.Playwright;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Signaling;

/// <summary>webinar.js in a real Chromium page against the real control plane and SFU node processes.</summary>
public sealed class BrowserSignalingTests : IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private const string JoinScript = """
        async ([url, token]) => {
          const { WebinarClient } = await import('/webinar.js');
          const client = new WebinarClient();
          window.client = client;
          window.ended = null;
          client.addEventListener('disconnected', e => { window.ended = e.detail; });
          client.addEventListener('meeting-ended', e => { window.ended = e.detail; });
          try { const joined = await client.join(url, token); return 'joined:' + joined.role; }
          catch (e) { return e.code; }
        }
        """;

    private readonly WebinarSystemFixture _system;
    private readonly ChromiumFixture _chromium;
    private readonly ITestOutputHelper _output;

    public BrowserSignalingTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _system = system;
        _chromium = chromium;
        _output = output;
    }

    [Fact]
    public Task Valid_token_joins_and_bad_expired_or_other_meeting_tokens_are_refused_in_the_browser() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var other = await _system.Api.CreateMeetingAsync("eu-west-1");
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, "browser-user");
        var otherAttendee = await _system.Api.CreateAttendeeAsync(other.MeetingId, "elsewhere");
        var now = DateTimeOffset.UtcNow;
        var expired = _system.Signer.Sign(new JoinTokenClaims(
            meeting.MeetingId, attendee.AttendeeId, "browser-user", null, AttendeeCapabilities.SendReceiveAll, now.AddHours(-2), now.AddMinutes(-10)));
        var tampered = attendee.JoinToken[..^4] + (attendee.JoinToken[^4] == 'A' ? "B" : "A") + attendee.JoinToken[^3..];

        var page = await OpenPageAsync();

        Assert.Equal("joined:primary", await JoinAsync(page, meeting.SignalingUrl, attendee.JoinToken));
        page = await OpenPageAsync();
        Assert.Equal("invalid-token", await JoinAsync(page, meeting.SignalingUrl, tampered));
        Assert.Equal("token-expired", await JoinAsync(page, meeting.SignalingUrl, expired));
        Assert.Equal("wrong-meeting-node", await JoinAsync(page, meeting.SignalingUrl, otherAttendee.JoinToken));
    });

    [Fact]
    public Task DeleteAttendee_disconnects_a_live_page() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, "to-be-deleted");
        var page = await OpenPageAsync();
        Assert.Equal("joined:primary", await JoinAsync(page, meeting.SignalingUrl, attendee.JoinToken));

        await _system.Api.DeleteAttendeeAsync(meeting.MeetingId, attendee.AttendeeId);

        await page.WaitForFunctionAsync("window.ended !== null", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        Assert.Equal("attendee-deleted", await page.EvaluateAsync<string>("window.ended.reason"));
        Assert.Equal(4006, await page.EvaluateAsync<int>("window.ended.code"));

        var again = await OpenPageAsync();
        Assert.Equal("token-revoked", await JoinAsync(again, meeting.SignalingUrl, attendee.JoinToken));
    });

    [Fact]
    public Task DeleteMeeting_ends_the_sessions_of_the_primary_and_its_replica() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var viewer = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "viewer", "Receive");
        var presenterPage = await OpenPageAsync();
        var viewerPage = await OpenPageAsync();
        Assert.Equal("joined:primary", await JoinAsync(presenterPage, primary.SignalingUrl, presenter.JoinToken));
        Assert.Equal("joined:replica", await JoinAsync(viewerPage, replica.SignalingUrl, viewer.JoinToken));

        await _system.Api.DeleteMeetingAsync(primary.MeetingId);

        foreach (var page in new[] { presenterPage, viewerPage })
        {
            await page.WaitForFunctionAsync("window.ended !== null", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
            Assert.Equal("deleted", await page.EvaluateAsync<string>("window.ended.reason"));
        }
    });

    private async Task<IPage> OpenPageAsync()
    {
        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(_system.BaseAddress + "index.html");
        return page;
    }

    private static Task<string> JoinAsync(IPage page, string signalingUrl, string token) =>
        page.EvaluateAsync<string>(JoinScript, new[] { signalingUrl, token });
}
