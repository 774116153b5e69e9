using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Webinar.Media.Dtls;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Diagnostics;

/// <summary>
/// The node's Prometheus figures (meter <see cref="MeterName"/>, scraped at <c>/metrics</c>). Every instrument is
/// observable: it reads counters the media thread already keeps (<see cref="MediaCounters"/>, <see cref="MediaLoad"/>)
/// or the rooms' connection counts when scraped, so the packet path stays free of locks and allocations.
/// DTLS handshakes come from <see cref="DtlsMetrics"/>.
/// </summary>
internal sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Webinar.Sfu";

    private readonly Meter _meter;

    public NodeMetrics(IMeterFactory meters, MeetingRooms rooms, IServiceProvider services)
    {
        _meter = meters.Create(MeterName);
        var node = services.GetService<NodeMediaPlane>()?.Node;

        _meter.CreateObservableGauge("webinar.sfu.connections", () => Connections(rooms), "{connection}", "Signalling connections per meeting.");
        if (node is null)
        {
            return;
        }

        var counters = node.Counters;
        var load = node.Load;
        _meter.CreateObservableCounter("webinar.sfu.datagrams", () => InOut(counters.DatagramsReceived, counters.DatagramsSent), "{datagram}", "UDP datagrams received and sent.");
        _meter.CreateObservableCounter("webinar.sfu.bytes", () => InOut(counters.BytesReceived, counters.BytesSent), "By", "UDP payload bytes received and sent.");
        _meter.CreateObservableCounter("webinar.sfu.rtp.forwarded", () => Volatile.Read(ref counters.RtpForwarded), "{packet}", "RTP packets forwarded to consumers and relay links.");
        _meter.CreateObservableCounter("webinar.sfu.rtp.retransmitted", () => Volatile.Read(ref counters.NacksAnswered), "{packet}", "RTP packets retransmitted in answer to NACKs.");
        _meter.CreateObservableCounter("webinar.sfu.nacks.sent", () => Volatile.Read(ref counters.NacksSent), "{nack}", "NACKs sent to publishers and relay links for gaps in what the node receives.");
        _meter.CreateObservableCounter("webinar.sfu.rtcp.received", () => Volatile.Read(ref counters.RtcpReceived), "{packet}", "RTCP compound packets received (reports, NACKs, PLIs, feedback).");
        _meter.CreateObservableCounter("webinar.sfu.keyframe_requests", () => Volatile.Read(ref counters.KeyframeRequestsSent), "{request}", "PLIs sent to publishers.");
        _meter.CreateObservableCounter("webinar.sfu.dropped", () => Dropped(counters), "{datagram}", "Datagrams dropped, by reason.");
        _meter.CreateObservableGauge("webinar.sfu.rtp.lost", () => load.PacketsLost, "{packet}", "Packets the node's producers lost on the way in (cumulative, RFC 3550).");
        _meter.CreateObservableGauge("webinar.sfu.media_thread.busy", () => load.BusyRatio, "1", "Share of the last second the media thread spent on the CPU.");
        _meter.CreateObservableCounter("webinar.sfu.media_thread.cpu_time", () => load.CpuTime.TotalSeconds, "s", "CPU time of the media thread.");
        _meter.CreateObservableGauge("webinar.sfu.transports", () => load.Transports, "{transport}", "Media transports (WebRTC peers and relay links).");
        _meter.CreateObservableGauge("webinar.sfu.relay.links", () => load.RelayLinks, "{link}", "Relay links to other nodes.");
    }

    private static IEnumerable<Measurement<int>> Connections(MeetingRooms rooms)
    {
        foreach (var meeting in rooms.ConnectionSnapshot().Meetings)
        {
            yield return new Measurement<int>(meeting.Connections, new KeyValuePair<string, object?>("meeting", meeting.MeetingId.ToString()));
        }
    }

    private static Measurement<long>[] InOut(long received, long sent) =>
    [
        new(received, new KeyValuePair<string, object?>("direction", "in")),
        new(sent, new KeyValuePair<string, object?>("direction", "out")),
    ];

    private static Measurement<long>[] Dropped(MediaCounters counters) =>
    [
        new(Volatile.Read(ref counters.Malformed), new KeyValuePair<string, object?>("reason", "malformed")),
        new(Volatile.Read(ref counters.UnknownSource), new KeyValuePair<string, object?>("reason", "unknown_source")),
        new(Volatile.Read(ref counters.SrtpRejected), new KeyValuePair<string, object?>("reason", "srtp_rejected")),
        new(Volatile.Read(ref counters.RtpNotAdmitted), new KeyValuePair<string, object?>("reason", "promotion_not_admitted")),
        new(Volatile.Read(ref counters.SendErrors), new KeyValuePair<string, object?>("reason", "send_error")),
        new(Volatile.Read(ref counters.HandlerErrors), new KeyValuePair<string, object?>("reason", "handler_error")),
    ];

    public void Dispose() => _meter.Dispose();
}

internal static class NodeMetricsExtensions
{
    /// <summary>OpenTelemetry metrics with the Prometheus exporter: the node's meter, DTLS, and the .NET runtime's own.</summary>
    public static IServiceCollection AddNodeMetrics(this IServiceCollection services, string nodeId)
    {
        services.AddSingleton<NodeMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("webinar-sfu", serviceInstanceId: nodeId))
            .WithMetrics(metrics => metrics
                .AddMeter(NodeMetrics.MeterName, DtlsMetrics.MeterName, "System.Runtime")
                .AddPrometheusExporter());
        return services;
    }

    /// <summary>Creates the instruments and maps <c>/metrics</c>.</summary>
    public static WebApplication MapNodeMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<NodeMetrics>();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}
