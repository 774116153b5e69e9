using System.Collections;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using Webinar.TestSupport;

namespace Webinar.EndToEnd.Tests.Containers;

/// <summary>
/// docker-compose.yml as infra/compose runs it here (local base images, every service in its own container, TLS from
/// a development CA, bus trust keys), and a Chromium on the host whose NSS database trusts that CA.
/// </summary>
public sealed class ComposeSystemFixture : IAsyncLifetime
{
    private static readonly TimeSpan UpLimit = TimeSpan.FromMinutes(15);
    private string _home = "";

    public static string DataDirectory =>
        Environment.GetEnvironmentVariable("WEBINAR_DATA_DIR") is { Length: > 0 } d ? d : Path.Combine(RepositoryRoot.Path, ".data");

    /// <summary>The containers' network (infra/compose's WEBINAR_COMPOSE_SUBNET): node i of the regions is .11, .12, .13.</summary>
    public static string Subnet =>
        Environment.GetEnvironmentVariable("WEBINAR_COMPOSE_SUBNET") is { Length: > 0 } s ? s : "10.213.77";

    /// <summary>The control plane's HTTP port on 127.0.0.1 (infra/compose's default).</summary>
    public Uri BaseAddress { get; } = new("http://127.0.0.1:18080");

    public ControlPlaneApi Api { get; private set; } = null!;

    public ChromiumFixture Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await ComposeAsync(UpLimit, "up");
        var compose = Path.Combine(DataDirectory, "compose");
        Api = new ControlPlaneApi(BaseAddress, (await File.ReadAllTextAsync(Path.Combine(compose, "keys", "api-key"))).Trim());

        _home = Directory.CreateTempSubdirectory("webinar-e2e-compose-home-").FullName;
        var nss = "sql:" + Path.Combine(_home, ".pki", "nssdb");
        Directory.CreateDirectory(Path.Combine(_home, ".pki", "nssdb"));
        await RepositoryTools.RunAsync("certutil", ["-N", "-d", nss, "--empty-password"], null);
        await RepositoryTools.RunAsync("certutil", ["-A", "-d", nss, "-t", "C,,", "-n", "Webinar development CA", "-i", Path.Combine(compose, "tls", "ca.pem")], null);
        var environment = new Dictionary<string, string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = (string?)e.Value ?? "";
        }

        environment["HOME"] = _home;
        Chromium = new ChromiumFixture(environment, _ => true);
        await Chromium.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        Api?.Dispose();
        if (_home.Length > 0)
        {
            Directory.Delete(_home, recursive: true);
        }

        await ComposeAsync(TimeSpan.FromMinutes(3), "down");
    }

    /// <summary>The last lines each container logged, for a failure message.</summary>
    public async Task<string> LogsAsync()
    {
        try
        {
            return await ComposeAsync(TimeSpan.FromMinutes(1), "logs", "--no-color", "--tail", "40");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return "(no logs: " + e.Message + ")";
        }
    }

    private static Task<string> ComposeAsync(TimeSpan limit, params string[] args) =>
        RepositoryTools.RunAsync(Path.Combine(RepositoryRoot.Path, "infra", "compose"), args, null).WaitAsync(limit);
}

/// <summary>The compose deployment works end to end, as a person would use it from the host.</summary>
public sealed class ComposeTests(ComposeSystemFixture system, ITestOutputHelper output) : IClassFixture<ComposeSystemFixture>, IAsyncLifetime
{
    private static readonly TimeSpan TestLimit = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(60);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => system.Chromium.CloseAllPagesAsync();

    [Fact]
    public async Task Chromium_on_the_host_decodes_the_presenter_through_a_replica_in_another_container()
    {
        try
        {
            await WatchThroughReplicaAsync().WaitAsync(TestLimit);
        }
        catch (Exception)
        {
            output.WriteLine(await system.LogsAsync());
            throw;
        }
    }

    private async Task WatchThroughReplicaAsync()
    {
        var primary = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(60));
        var replica = await system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        // Each node announces its own container's address (infra/compose.local.yml): two containers, over TLS.
        Assert.Equal($"wss://{ComposeSystemFixture.Subnet}.11:8451/signal", primary.SignalingUrl);
        Assert.Equal($"wss://{ComposeSystemFixture.Subnet}.12:8452/signal", replica.SignalingUrl);

        var presenterAttendee = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var presenter = await MeetingPage.OpenAsync(system.Chromium, system.BaseAddress);
        Assert.Equal("joined:primary", await presenter.JoinAsync(primary.SignalingUrl, presenterAttendee.JoinToken));
        await presenter.PublishAsync();

        var viewerAttendee = await system.Api.CreateAttendeeAsync(replica.MeetingId, "viewer", "Receive");
        var viewer = await MeetingPage.OpenAsync(system.Chromium, system.BaseAddress);
        Assert.Equal("joined:replica", await viewer.JoinAsync(replica.SignalingUrl, viewerAttendee.JoinToken));
        var first = await viewer.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "the presenter's video through the replica's node");
        await viewer.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 30, MediaTimeout, "the video to keep arriving");
        var pair = await viewer.SelectedCandidatePairAsync();
        output.WriteLine($"viewer's selected candidate pair: {pair}");
        Assert.NotNull(pair);
        Assert.Contains($"{ComposeSystemFixture.Subnet}.12:20001", pair, StringComparison.Ordinal);
    }
}
