using System.Collections.Concurrent;
using MassTransit;
using Webinar.Contracts.Archives;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Archives;

/// <summary>
/// Archives as signalling sees them: which primary meetings are being recorded (from the control plane's events, on
/// every node), telling their attendees and their replicas' audiences, and a moderator's start/stop sent to the
/// control plane, which owns archives.
/// </summary>
internal sealed class ArchiveControl(IBus bus, MeetingRooms rooms)
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, Guid> _recording = new();

    /// <summary>The archive recording <paramref name="primaryMeetingId"/>, as last announced.</summary>
    public Guid? RecordingOf(Guid primaryMeetingId) => _recording.TryGetValue(primaryMeetingId, out var id) ? id : null;

    public void OnStarted(Guid primaryMeetingId, Guid archiveId)
    {
        _recording[primaryMeetingId] = archiveId;
        Broadcast(primaryMeetingId, ServerFrames.ArchiveStarted(archiveId, null));
    }

    public void OnStopped(Guid primaryMeetingId, Guid archiveId, string reason)
    {
        if (_recording.TryRemove(new KeyValuePair<Guid, Guid>(primaryMeetingId, archiveId)))
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
            var response = await client.GetResponse<ArchiveCommandResult>(new ArchiveCommand(primaryMeetingId, attendeeId, start), cancellationToken).ConfigureAwait(false);
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
