using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Nodes;

/// <summary>Healthy nodes of one configured media region.</summary>
internal sealed record RegionNodes(string Region, int HealthyNodes);

/// <summary><c>GET /readyz/nodes</c>: whether every configured region has a healthy node (so CreateMeeting can place there).</summary>
internal sealed record NodeHealthReport(bool Ready, IReadOnlyList<RegionNodes> Regions);

/// <summary>
/// Per-region node health: <c>/readyz</c> says the control plane can serve; this says whether a meeting can
/// be placed in each region now. <c>infra/up</c> waits for it before it prints "up".
/// </summary>
internal static class RegionHealth
{
    public static IEndpointRouteBuilder MapNodeHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/readyz/nodes", async (NpgsqlDataSource dataSource, NodeLiveness liveness, IOptions<MeetingOptions> meetings, CancellationToken ct) =>
        {
            var report = await ReadAsync(dataSource, liveness, meetings.Value.RegionList(), ct);
            return Results.Json(report, statusCode: report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).AllowAnonymous().WithTags("Health");
        return app;
    }

    public static async Task<NodeHealthReport> ReadAsync(NpgsqlDataSource dataSource, NodeLiveness liveness, IReadOnlyList<string> regions, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var counts = (await connection.QueryAsync<(string Region, int Healthy)>(new CommandDefinition(
            $"SELECT n.region, count(*)::int FROM nodes n WHERE {NodeLiveness.HealthySql("n")} GROUP BY n.region",
            liveness.Parameters(),
            cancellationToken: ct))).ToDictionary(r => r.Region, r => r.Healthy, StringComparer.Ordinal);
        var result = new List<RegionNodes>(regions.Count);
        foreach (var region in regions)
        {
            result.Add(new RegionNodes(region, counts.GetValueOrDefault(region)));
        }

        return new NodeHealthReport(result.TrueForAll(r => r.HealthyNodes > 0), result);
    }
}
