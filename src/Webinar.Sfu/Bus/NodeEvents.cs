using System.Threading.Channels;
using MassTransit;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Bus;

/// <summary>
/// Publishes the node's events (AttendeeJoined, AttendeeLeft, NodeHeartbeat) in the background, in order, so that
/// signalling never waits for the broker. While RabbitMQ is down each publish times out, is logged and dropped; the
/// next heartbeat carries the live connection counts again.
/// </summary>
internal sealed class NodeEvents : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<object> _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    private readonly IBus _bus;
    private readonly ILogger<NodeEvents> _logger;

    public NodeEvents(IBus bus, ILogger<NodeEvents> logger)
    {
        _bus = bus;
        _logger = logger;
    }

    /// <summary>Queues a message for publishing; never blocks.</summary>
    public void Publish<T>(T message)
        where T : class
    {
        if (!_queue.Writer.TryWrite(message))
        {
            Log.PublishQueueFull(_logger, typeof(T).Name);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(PublishTimeout);
            try
            {
                await _bus.Publish(message, message.GetType(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PublishFailed(_logger, e, message.GetType().Name);
            }
        }
    }
}
