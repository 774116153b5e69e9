using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Archives;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Archives;

/// <summary>
/// Archives as signalling sees them: which primary meetings are being recorded (from the control plane's events, on
/// every node), telling their attendees and their replicas' audiences, and a moderator's start/stop sent to the
/// control plane, which owns archives. A stop reported by a node counts only from the node the control plane named as
/// the recorder: attendees are never told recording stopped while it goes on.
/// </summary>
internal sealed class ArchiveControl(IBus bus, MeetingRooms rooms, IOptions<SfuOptions> options)
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, Recording> _recording = new();
    private readonly string _nodeId = options.Value.EffectiveNodeId;

    /// <summary>The archive recording <paramref name="primaryMeetingId"/>, as last announced.</summary>
    public Guid? RecordingOf(Guid primaryMeetingId) => _recording.TryGetValue(primaryMeetingId, out var r) ? r.ArchiveId : null;

    /// <summary>The control plane started <paramref name="archiveId"/>, recorded by node <paramref name="recorderNodeId"/>.</summary>
    public void OnStarted(Guid primaryMeetingId, Guid archiveId, string recorderNodeId)
    {
        _recording[primaryMeetingId] = new Recording(archiveId, recorderNodeId);
        Broadcast(primaryMeetingId, ServerFrames.ArchiveStarted(archiveId, null));
    }

    /// <summary>The archive stopped, as the control plane (<paramref name="reportingNodeId"/> null) or a node said.</summary>
    public void OnStopped(Guid primaryMeetingId, Guid archiveId, string reason, string? reportingNodeId)
    {
        if (!_recording.TryGetValue(primaryMeetingId, out var recording) || recording.ArchiveId != archiveId
            || (reportingNodeId is not null && !string.Equals(reportingNodeId, recording.RecorderNodeId, StringComparison.Ordinal)))
        {
            return;
        }

        if (_recording.TryRemove(new KeyValuePair<Guid, Recording>(primaryMeetingId, recording)))
        {
            Broadcast(primaryMeetingId, ServerFrames.ArchiveStopped(archiveId, reason));
        }
    }

    /// <summary>Sends a moderator's start or stop to the control plane; a refusal or no answer is an error code and message.</summary>
    public async Task<(string? Code, string? Message)> CommandAsync(Guid primaryMeetingId, Guid attendeeId, bool start, CancellationToken cancellationToken)
    {
        try
        {
            var client = bus.CreateRequestClient<ArchiveCommand>(RequestTimeout.After(ms: (int)CommandTimeout.TotalMilliseconds));
            var response = await client.GetResponse<ArchiveCommandResult>(new ArchiveCommand(primaryMeetingId, attendeeId, start, _nodeId), cancellationToken).ConfigureAwait(false);
            var result = response.Message;
            return result.Succeeded ? (null, null) : (result.Code ?? ErrorCodes.ArchiveUnavailable, result.Message ?? "The archive command was refused.");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is RequestTimeoutException or RequestFaultException or MassTransitException)
        {
            return (ErrorCodes.ArchiveUnavailable, "The control plane did not answer; retry.");
        }
    }

    private void Broadcast(Guid primaryMeetingId, byte[] frame)
    {
        foreach (var session in rooms.AllSessions())
        {
            if (session.Room?.Placement is { } placement && (placement.MeetingId == primaryMeetingId || placement.PrimaryMeetingId == primaryMeetingId))
            {
                session.Send(frame);
            }
        }
    }
}

/// <summary>An archive being recorded, and the node the control plane named to record it.</summary>
internal sealed record Recording(Guid ArchiveId, string RecorderNodeId);
