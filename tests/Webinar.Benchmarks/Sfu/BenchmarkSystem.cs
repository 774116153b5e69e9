using Webinar.TestSupport.Systems;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// The control plane and one node per given region as processes from the Release builds, on the shared PostgreSQL and
/// RabbitMQ with a database, a virtual host and join-token keys of their own (the end-to-end tests' fixture), removed
/// on dispose. Needs <c>source infra/lib.sh; prepare</c> and <c>dotnet build -c Release</c> of the services first.
/// </summary>
internal sealed class BenchmarkSystem(params string[] regions) : WebinarSystemFixture
{
    public override IReadOnlyList<string> NodeRegions => regions;

    public static async Task<BenchmarkSystem> StartAsync(params string[] regions)
    {
        var system = new BenchmarkSystem(regions);
        await system.InitializeAsync();
        return system;
    }

    public int NodePid(string region) => Node(region).Process.Id;

    public Uri SignalingUrl(ApiMeeting meeting) => new(meeting.SignalingUrl);
}
