using System.Threading.Channels;
using MassTransit;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Relay;

/// <summary>
/// The relay's messages to other nodes, queued by the media loop and the rooms (which must never wait on the bus) and
/// sent one at a time, in order, to each node's own queue.
/// </summary>
internal sealed class RelayOutbox(IBus bus, TimeProvider time, RelayOptions options, ILogger logger)
{
    private readonly Channel<(string NodeId, object Message)> _outgoing =
        Channel.CreateUnbounded<(string, object)>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(string nodeId, object message) => _outgoing.Writer.TryWrite((nodeId, message));

    /// <summary>
    /// Sends queued messages in order. While the broker is down a message is retried (backing off up to
    /// <see cref="RelayOptions.SendRetryMaxDelay"/>) rather than dropped, so presence and stream changes made meanwhile
    /// arrive, in order, as soon as it is back; after <see cref="RelayOptions.SendGiveUp"/> it is dropped and the next
    /// subscription refresh repairs what it carried.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (nodeId, message) in _outgoing.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var firstTry = time.GetUtcNow();
                var backoff = options.SendRetryDelay;
                while (true)
                {
                    try
                    {
                        var endpoint = await bus.GetSendEndpoint(MediaRelay.NodeQueue(nodeId)).ConfigureAwait(false);
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        timeout.CancelAfter(options.SendTimeout);
                        await endpoint.Send(message, message.GetType(), timeout.Token).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        if (time.GetUtcNow() - firstTry > options.SendGiveUp)
                        {
                            Log.RelaySendFailed(logger, e, nodeId, message.GetType().Name);
                            break;
                        }

                        await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.SendRetryMaxDelay.Ticks));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
