using Microsoft.Extensions.Options;
using Webinar.Contracts.Nodes;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Bus;

/// <summary>
/// Publishes a <see cref="NodeHeartbeat"/> every <see cref="NodeHeartbeatDefaults.Interval"/>, with the node's own list of
/// live connections so the control plane can drop any it recorded that no longer exist.
/// </summary>
internal sealed class HeartbeatService : BackgroundService
{
    private readonly NodeEvents _events;
    private readonly MeetingRooms _rooms;
    private readonly SfuOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HeartbeatService> _logger;

    public HeartbeatService(NodeEvents events, MeetingRooms rooms, IOptions<SfuOptions> options, TimeProvider time, ILogger<HeartbeatService> logger)
    {
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

            _events.Publish(new NodeHeartbeat(_options.EffectiveNodeId, _options.Region, _options.SignalingUrl, load, meetings, _time.GetUtcNow(), connectionIds));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
