using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Bus;

/// <summary>
/// At startup, asks the control plane for every meeting placed on this node and records them, so a restarted node
/// admits rejoining attendees, refuses deleted ones, and sets its replicas' relays up again. Runs in the background
/// (signalling is served meanwhile: a join for a meeting not yet known asks on its own) and retries with
/// exponential backoff while the broker or the control plane is unavailable.
/// </summary>
internal sealed class PlacementRestore : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    private readonly PlacementClient _client;
    private readonly NodePlacements _placements;
    private readonly TimeProvider _time;
    private readonly ILogger<PlacementRestore> _logger;
    private readonly TaskCompletionSource _restored = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PlacementRestore(PlacementClient client, NodePlacements placements, TimeProvider time, ILogger<PlacementRestore> logger)
    {
        _client = client;
        _placements = placements;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes once the node's placements have been restored (cancelled if the node stops first).</summary>
    public Task Restored => _restored.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var delay = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var answer = await _client.GetNodeMeetingsAsync(stoppingToken).ConfigureAwait(false);
                var onThisNode = 0;
                foreach (var meeting in answer.Meetings ?? [])
                {
                    var placed = _placements.Learn(meeting);
                    if (placed is not null && _placements.IsOnThisNode(placed))
                    {
                        onThisNode++;
                    }
                }

                Log.PlacementsRestored(_logger, answer.Meetings?.Count ?? 0, onThisNode);
                _restored.TrySetResult();
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PlacementRestoreFailed(_logger, e.GetType().Name + ": " + e.Message, delay);
            }

            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = delay * 2 < MaxRetry ? delay * 2 : MaxRetry;
        }

        _restored.TrySetCanceled(stoppingToken);
    }
}
