using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>
/// What every browser test class shares: the running system, one Chromium, the test's output, pages closed after
/// each test (so one test's publishers don't load the next), and joining an attendee in a fresh page.
/// </summary>
public abstract class BrowserTest<TSystem> : IAsyncLifetime
    where TSystem : WebinarSystemFixture
{
    private protected readonly TSystem _system;
    private protected readonly ChromiumFixture _chromium;
    private protected readonly ITestOutputHelper _output;

    private protected BrowserTest(TSystem system, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _system = system;
        _chromium = chromium;
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _chromium.CloseAllPagesAsync();

    /// <summary>Creates an attendee of <paramref name="meeting"/> and joins it in a new page.</summary>
    private protected async Task<MeetingPage> JoinAsync(ApiMeeting meeting, string user, string? capability = null)
    {
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, user, capability);
        var page = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        Assert.StartsWith("joined:", await page.JoinAsync(meeting.SignalingUrl, attendee.JoinToken));
        return page;
    }
}
