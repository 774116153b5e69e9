using Microsoft.Extensions.Options;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Bus;

/// <summary>
/// Publishes a <see cref="NodeHeartbeat"/> every <see cref="NodeHeartbeatDefaults.Interval"/>, with the node's own list of
/// live connections so the control plane can drop any it recorded that no longer exist. Its load, which placement
/// orders nodes by, is the node's real load in connections: the live connections, or the media thread's busy share of
/// <see cref="SfuOptions.MaxConnections"/> when that is higher (a node whose media thread is nearly saturated by a few
/// heavy meetings looks as loaded as one full of connections).
/// </summary>
internal sealed class HeartbeatService : BackgroundService
{
    private readonly NodeEvents _events;
    private readonly MeetingRooms _rooms;
    private readonly SfuOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HeartbeatService> _logger;

    private readonly MediaLoad? _media;

    public HeartbeatService(
        NodeEvents events, MeetingRooms rooms, IOptions<SfuOptions> options, TimeProvider time, IServiceProvider services, ILogger<HeartbeatService> logger)
    {
        _media = services.GetService<NodeMediaPlane>()?.Node.Load;
        _events = events;
        _rooms = rooms;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.NodeStarting(_logger, _options.EffectiveNodeId, _options.Region, _options.SignalingUrl);
        using var timer = new PeriodicTimer(NodeHeartbeatDefaults.Interval, _time);
        do
        {
            var (meetings, connectionIds) = _rooms.ConnectionSnapshot();
            var load = 0;
            foreach (var m in meetings)
            {
                load += m.Connections;
            }

            load = Load(load, _media?.BusyRatio ?? 0, _options.MaxConnections);
            _events.Publish(new NodeHeartbeat(_options.EffectiveNodeId, _options.Region, _options.SignalingUrl, load, meetings, _time.GetUtcNow(), connectionIds));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>The load reported for placement: connections, or the media thread's busy share of the capacity if higher.</summary>
    internal static int Load(int connections, double mediaBusyRatio, int maxConnections) =>
        Math.Max(connections, (int)Math.Round(Math.Clamp(mediaBusyRatio, 0, 1) * maxConnections));
}
