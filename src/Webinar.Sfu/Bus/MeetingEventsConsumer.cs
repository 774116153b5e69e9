using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Bus;

/// <summary>The control plane's events as this node obeys them. Consumed on the node's own queue <c>sfu-{nodeId}</c>.</summary>
internal sealed class MeetingEventsConsumer :
    IConsumer<MeetingCreated>,
    IConsumer<ReplicaCreated>,
    IConsumer<MeetingDeleted>,
    IConsumer<AttendeeDeleted>
{
    private readonly MeetingDirectory _directory;
    private readonly RevokedAttendees _revoked;
    private readonly MeetingRooms _rooms;
    private readonly SfuOptions _options;
    private readonly ILogger<MeetingEventsConsumer> _logger;

    public MeetingEventsConsumer(MeetingDirectory directory, RevokedAttendees revoked, MeetingRooms rooms, IOptions<SfuOptions> options, ILogger<MeetingEventsConsumer> logger)
    {
        _directory = directory;
        _revoked = revoked;
        _rooms = rooms;
        _options = options.Value;
        _logger = logger;
    }

    public Task Consume(ConsumeContext<MeetingCreated> context)
    {
        var m = context.Message;
        Place(new PlacedMeeting(m.MeetingId, m.NodeId, null, null, m.MaxAttendees));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ReplicaCreated> context)
    {
        var m = context.Message;
        Place(new PlacedMeeting(m.MeetingId, m.NodeId, m.PrimaryMeetingId, m.PrimaryNodeId, m.MaxAttendees));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MeetingDeleted> context)
    {
        var m = context.Message;
        var reason = m.Reason == MeetingDeletionReason.Idle ? "idle" : "deleted";
        foreach (var replica in m.ReplicaMeetingIds)
        {
            End(replica, reason);
        }

        End(m.MeetingId, reason);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<AttendeeDeleted> context)
    {
        var m = context.Message;
        _revoked.Revoke(m.AttendeeId);
        Log.AttendeeRevoked(_logger, m.AttendeeId, m.MeetingId);
        _rooms.Revoke(m.MeetingId, m.AttendeeId);
        return Task.CompletedTask;
    }

    private void Place(PlacedMeeting meeting)
    {
        _directory.Place(meeting);
        if (meeting.NodeId == _options.EffectiveNodeId)
        {
            Log.MeetingPlaced(_logger, meeting.MeetingId, meeting.PrimaryMeetingId);
            _rooms.Open(meeting);
        }
    }

    private void End(Guid meetingId, string reason)
    {
        _directory.Delete(meetingId);
        var sessions = _rooms.End(meetingId, reason);
        Log.MeetingEnded(_logger, meetingId, reason, sessions);
    }
}
