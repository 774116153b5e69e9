using MassTransit;
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
    private readonly NodePlacements _placements;
    private readonly RevokedAttendees _revoked;
    private readonly MeetingRooms _rooms;
    private readonly ILogger<MeetingEventsConsumer> _logger;

    public MeetingEventsConsumer(NodePlacements placements, RevokedAttendees revoked, MeetingRooms rooms, ILogger<MeetingEventsConsumer> logger)
    {
        _placements = placements;
        _revoked = revoked;
        _rooms = rooms;
        _logger = logger;
    }

    public Task Consume(ConsumeContext<MeetingCreated> context)
    {
        var m = context.Message;
        _placements.Place(new PlacedMeeting(m.MeetingId, m.NodeId, null, null, m.MaxAttendees));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ReplicaCreated> context)
    {
        var m = context.Message;
        _placements.Place(new PlacedMeeting(m.MeetingId, m.NodeId, m.PrimaryMeetingId, m.PrimaryNodeId, m.MaxAttendees));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MeetingDeleted> context)
    {
        var m = context.Message;
        var reason = m.Reason == MeetingDeletionReason.Idle ? "idle" : "deleted";
        foreach (var replica in m.ReplicaMeetingIds)
        {
            _placements.End(replica, reason);
        }

        _placements.End(m.MeetingId, reason);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<AttendeeDeleted> context)
    {
        var m = context.Message;
        _revoked.Revoke(m.MeetingId, m.AttendeeId);
        Log.AttendeeRevoked(_logger, m.AttendeeId, m.MeetingId);
        _rooms.Revoke(m.MeetingId, m.AttendeeId);
        return Task.CompletedTask;
    }
}
