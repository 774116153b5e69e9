namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The system set up for archive faults: archives stop themselves after <see cref="MaxDuration"/>; the eu-west-1
/// node records into a <see cref="WorkDiskBytes"/>-byte tmpfs mounted for this fixture (a disk that fills in seconds
/// with the real ENOSPC); archives of a node gone for <see cref="NodeLostAfter"/> are failed by the control plane's
/// sweep; webhooks may go to loopback (the test's receiver). Needs root (mount).
/// </summary>
public sealed class ArchiveFaultsSystemFixture : WebinarSystemFixture
{
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan NodeLostAfter = TimeSpan.FromSeconds(60);

    public const int WorkDiskBytes = 128 * 1024;

    public const string SmallDiskRegion = "eu-west-1";

    private readonly string _smallDisk = Path.Combine(Path.GetTempPath(), "webinar-e2e-small-disk-" + Guid.NewGuid().ToString("N")[..8]);
    private bool _mounted;

    protected override void ConfigureControlPlane(IDictionary<string, string> environment)
    {
        environment["Archives__MaxDuration"] = MaxDuration.ToString("c");
        environment["Archives__NodeLostAfter"] = NodeLostAfter.ToString("c");
        environment["Archives__SweepInterval"] = "00:00:02";
        environment["Nodes__GoneAfter"] = "00:00:10";
        environment["WEBINAR_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8";
        environment["Webhooks__PollInterval"] = "00:00:00.500";
    }

    protected override void ConfigureNode(string region, IDictionary<string, string> environment)
    {
        if (region == SmallDiskRegion)
        {
            environment["Archives__WorkDirectory"] = _smallDisk;
            environment["Archives__MinFreeBytes"] = "0";
        }
    }

    protected override async Task PrepareNetworkAsync()
    {
        Directory.CreateDirectory(_smallDisk);
        await RepositoryTools.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={WorkDiskBytes}", "tmpfs", _smallDisk], null);
        _mounted = true;
    }

    protected override async Task CleanUpNetworkAsync()
    {
        if (_mounted)
        {
            await RepositoryTools.RunAsync("umount", ["-l", _smallDisk], null);
            _mounted = false;
        }

        if (Directory.Exists(_smallDisk))
        {
            Directory.Delete(_smallDisk, recursive: true);
        }
    }
}
