using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Webinar.ControlPlane.Nodes;

namespace Webinar.ControlPlane.Diagnostics;

/// <summary>How often the control plane reads its figures from PostgreSQL for <c>/metrics</c>.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The control plane's Prometheus figures (meter <see cref="MeterName"/>, at <c>/metrics</c>): healthy nodes and their
/// load, connections per meeting and node (from the heartbeats), the outbox backlog, webhook deliveries pending and
/// given up, and webhook attempts that failed. The database figures are read every
/// <see cref="MetricsOptions.RefreshInterval"/> by <see cref="ControlPlaneMetricsSampler"/>, not on each scrape.
/// </summary>
internal sealed class ControlPlaneMetrics : IDisposable
{
    public const string MeterName = "Webinar.ControlPlane";

    private readonly Meter _meter;
    private readonly Counter<long> _webhookFailures;
    private volatile Snapshot _snapshot = new([], [], 0, 0, 0);

    public ControlPlaneMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _webhookFailures = _meter.CreateCounter<long>("webinar.controlplane.webhook.failures", "{attempt}", "Webhook delivery attempts that failed, by whether the delivery was given up.");
        _meter.CreateObservableGauge("webinar.controlplane.nodes.load", NodeLoads, "{connection}", "Load each healthy node reported in its last heartbeat.");
        _meter.CreateObservableGauge("webinar.controlplane.connections", Connections, "{connection}", "Connections per meeting and node, from the heartbeats of healthy nodes.");
        _meter.CreateObservableGauge("webinar.controlplane.outbox.backlog", () => _snapshot.OutboxBacklog, "{message}", "Outbox messages not yet published to the bus.");
        _meter.CreateObservableGauge("webinar.controlplane.webhook.pending", () => _snapshot.WebhooksPending, "{delivery}", "Webhook deliveries neither delivered nor given up.");
        _meter.CreateObservableGauge("webinar.controlplane.webhook.given_up", () => _snapshot.WebhooksGivenUp, "{delivery}", "Webhook deliveries given up after their last attempt.");
    }

    public void WebhookAttemptFailed(bool givenUp) =>
        _webhookFailures.Add(1, new KeyValuePair<string, object?>("given_up", givenUp ? "true" : "false"));

    internal void Publish(Snapshot snapshot) => _snapshot = snapshot;

    private IEnumerable<Measurement<int>> NodeLoads()
    {
        foreach (var node in _snapshot.Nodes)
        {
            yield return new Measurement<int>(node.Load, new KeyValuePair<string, object?>("node", node.NodeId), new KeyValuePair<string, object?>("region", node.Region));
        }
    }

    private IEnumerable<Measurement<int>> Connections()
    {
        foreach (var row in _snapshot.Connections)
        {
            yield return new Measurement<int>(row.Connections, new KeyValuePair<string, object?>("meeting", row.MeetingId.ToString()), new KeyValuePair<string, object?>("node", row.NodeId));
        }
    }

    public void Dispose() => _meter.Dispose();

    internal sealed record NodeRow(string NodeId, string Region, int Load);

    internal sealed record ConnectionRow(string NodeId, Guid MeetingId, int Connections);

    internal sealed record Snapshot(IReadOnlyList<NodeRow> Nodes, IReadOnlyList<ConnectionRow> Connections, long OutboxBacklog, long WebhooksPending, long WebhooksGivenUp);
}

/// <summary>Reads the control plane's figures from PostgreSQL every <see cref="MetricsOptions.RefreshInterval"/>.</summary>
internal sealed class ControlPlaneMetricsSampler(
    ControlPlaneMetrics metrics, NpgsqlDataSource dataSource, NodeLiveness liveness, IOptions<MetricsOptions> options, TimeProvider time, ILogger<ControlPlaneMetricsSampler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            try
            {
                metrics.Publish(await SampleAsync(stoppingToken));
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.MetricsSampleFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<ControlPlaneMetrics.Snapshot> SampleAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var nodes = await connection.QueryAsync<ControlPlaneMetrics.NodeRow>(new CommandDefinition(
            $"SELECT node_id, region, load FROM nodes n WHERE {NodeLiveness.HealthySql("n")} ORDER BY node_id",
            liveness.Parameters(), cancellationToken: ct));
        var connections = await connection.QueryAsync<ControlPlaneMetrics.ConnectionRow>(new CommandDefinition(
            $"""
            SELECT c.node_id, c.meeting_id, c.connections FROM node_meeting_connections c
            JOIN nodes n ON n.node_id = c.node_id AND {NodeLiveness.HealthySql("n")}
            WHERE c.connections > 0
            """,
            liveness.Parameters(), cancellationToken: ct));
        var counts = await connection.QuerySingleAsync<(long Outbox, long Pending, long GivenUp)>(new CommandDefinition(
            """
            SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL),
                   (SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL),
                   (SELECT count(*) FROM webhook_deliveries WHERE failed_at IS NOT NULL)
            """, cancellationToken: ct));
        return new ControlPlaneMetrics.Snapshot([.. nodes], [.. connections], counts.Outbox, counts.Pending, counts.GivenUp);
    }
}

internal static class ControlPlaneMetricsExtensions
{
    public static IServiceCollection AddMetricsEndpoint(this IServiceCollection services)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        services.AddSingleton<ControlPlaneMetrics>();
        services.AddHostedService<ControlPlaneMetricsSampler>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("webinar-control-plane"))
            .WithMetrics(metrics => metrics
                .AddMeter(ControlPlaneMetrics.MeterName, "System.Runtime", "Microsoft.AspNetCore.Hosting")
                .AddPrometheusExporter());
        return services;
    }
}
