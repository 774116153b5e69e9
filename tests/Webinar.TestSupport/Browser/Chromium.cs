using Microsoft.Playwright;
using Xunit;

namespace Webinar.TestSupport.Browser;

/// <summary>
/// Launches Debian's Chromium through Playwright (never a downloaded browser): headless, fake camera and microphone
/// (the fake camera plays <see cref="FakeCamera"/>'s 1280x720 clip), and nothing that changes how WebRTC picks its
/// network: like a user's browser, it gathers candidates on the machine's real interfaces only (no loopback).
/// </summary>
public static class Chromium
{
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("WEBINAR_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static readonly string[] Arguments =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ];

    /// <param name="executable">Another launcher (e.g. a script that starts Chromium in a network namespace); default Debian's Chromium.</param>
    /// <param name="environment">Extra environment for the browser process (e.g. a HOME whose NSS database trusts a CA).</param>
    /// <param name="keepArgument">Which of <see cref="Arguments"/> to pass (all by default).</param>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync(
        string? executable = null, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? keepArgument = null)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executable ?? ExecutablePath,
                Headless = true,
                Args = [.. Arguments.Where(keepArgument ?? (_ => true)), "--use-file-for-fake-video-capture=" + FakeCamera.Ensure()],
                Env = environment,
                Timeout = 60_000,
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}

/// <summary>One Chromium for a test class.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private readonly List<IBrowserContext> _contexts = [];
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private readonly Func<string, bool>? _keepArgument;
    private IPlaywright? _playwright;

    public ChromiumFixture()
    {
    }

    /// <summary>A Chromium with extra environment and a choice of <see cref="Chromium.Arguments"/>, started by its owner.</summary>
    internal ChromiumFixture(IReadOnlyDictionary<string, string> environment, Func<string, bool> keepArgument)
    {
        _environment = environment;
        _keepArgument = keepArgument;
    }

    public IBrowser Browser { get; private set; } = null!;

    private string? _executable;

    /// <summary>A Chromium started through <paramref name="executable"/> (see <see cref="Chromium.LaunchAsync"/>), launched.</summary>
    public static async Task<ChromiumFixture> LaunchThroughAsync(string executable)
    {
        var fixture = new ChromiumFixture { _executable = executable };
        await fixture.InitializeAsync();
        return fixture;
    }

    public async Task InitializeAsync() => (_playwright, Browser) = await Chromium.LaunchAsync(_executable, _environment, _keepArgument);

    public async Task DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright?.Dispose();
    }

    /// <summary>A fresh context (own cookies, permissions granted for camera and microphone) and page.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { Permissions = ["camera", "microphone"] });
        lock (_contexts)
        {
            _contexts.Add(context);
        }

        return await context.NewPageAsync();
    }

    /// <summary>Closes every page opened so far, so one test's publishers and viewers don't load the next test's machine.</summary>
    public async Task CloseAllPagesAsync()
    {
        IBrowserContext[] open;
        lock (_contexts)
        {
            open = [.. _contexts];
            _contexts.Clear();
        }

        foreach (var context in open)
        {
            await context.CloseAsync();
        }
    }
}
