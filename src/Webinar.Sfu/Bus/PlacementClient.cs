using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;

namespace Webinar.Sfu.Bus;

/// <summary>
/// Asks the control plane (the source of truth for placement) what this node does not know, over MassTransit
/// request/response. Every call is bounded by a timeout and never throws for a broker or control-plane failure.
/// </summary>
internal sealed class PlacementClient
{
    private readonly IBus _bus;
    private readonly NodePlacements _placements;
    private readonly MeetingDirectory _directory;
    private readonly SfuOptions _options;
    private readonly ILogger<PlacementClient> _logger;

    public PlacementClient(IBus bus, NodePlacements placements, MeetingDirectory directory, IOptions<SfuOptions> options, ILogger<PlacementClient> logger)
    {
        _bus = bus;
        _placements = placements;
        _directory = directory;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>
    /// The meeting's placement as the control plane has it, recorded in the directory; null when it does not exist,
    /// is deleted, or the control plane did not answer within <see cref="SfuOptions.PlacementQueryTimeout"/>.
    /// For a replica whose primary the node does not know, the primary is learnt too (in the background: only a
    /// later promotion needs it).
    /// </summary>
    public async ValueTask<PlacedMeeting?> ResolveAsync(Guid meetingId, CancellationToken cancellationToken)
    {
        var meeting = await AskAsync(meetingId, cancellationToken).ConfigureAwait(false);
        if (meeting?.PrimaryMeetingId is { } primary && _directory.Find(primary) is null && !_directory.IsDeleted(primary))
        {
            _ = AskAsync(primary, CancellationToken.None).AsTask();
        }

        return meeting;
    }

    /// <summary>Every meeting placed on this node (and its replicas' primaries); throws when the query fails.</summary>
    public async Task<NodeMeetings> GetNodeMeetingsAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.NodeMeetingsQueryTimeout);
        var client = _bus.CreateRequestClient<GetNodeMeetings>(RequestTimeout.After(ms: (int)_options.NodeMeetingsQueryTimeout.TotalMilliseconds));
        var response = await client.GetResponse<NodeMeetings>(new GetNodeMeetings(_options.EffectiveNodeId), timeout.Token).ConfigureAwait(false);
        return response.Message;
    }

    private async ValueTask<PlacedMeeting?> AskAsync(Guid meetingId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PlacementQueryTimeout);
        try
        {
            var client = _bus.CreateRequestClient<GetMeetingPlacement>(RequestTimeout.After(ms: (int)_options.PlacementQueryTimeout.TotalMilliseconds));
            var response = await client.GetResponse<MeetingPlacement>(new GetMeetingPlacement(meetingId), timeout.Token).ConfigureAwait(false);
            var answer = response.Message;
            Log.PlacementLearnt(_logger, meetingId, answer.Exists);
            return answer.MeetingId == meetingId ? _placements.Learn(answer) : null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.PlacementQueryFailed(_logger, meetingId, e.GetType().Name + ": " + e.Message);
            return null;
        }
    }
}
