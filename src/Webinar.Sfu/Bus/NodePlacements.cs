using Microsoft.Extensions.Options;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Bus;

/// <summary>
/// What the node does with a placement, whether an event announced it or the control plane answered a query:
/// the directory records it and a meeting placed on this node gets its room (and media, so a replica's relay is
/// set up). A deleted meeting ends, and its revocations and waiting joins go with it. Thread-safe.
/// </summary>
internal sealed class NodePlacements
{
    private readonly MeetingDirectory _directory;
    private readonly RevokedAttendees _revoked;
    private readonly MeetingRooms _rooms;
    private readonly SfuOptions _options;
    private readonly ILogger<NodePlacements> _logger;

    public NodePlacements(MeetingDirectory directory, RevokedAttendees revoked, MeetingRooms rooms, IOptions<SfuOptions> options, ILogger<NodePlacements> logger)
    {
        _directory = directory;
        _revoked = revoked;
        _rooms = rooms;
        _options = options.Value;
        _logger = logger;
    }

    public bool IsOnThisNode(PlacedMeeting meeting) => meeting.NodeId == _options.EffectiveNodeId;

    public void Place(PlacedMeeting meeting)
    {
        if (_directory.Place(meeting) && IsOnThisNode(meeting))
        {
            Log.MeetingPlaced(_logger, meeting.MeetingId, meeting.PrimaryMeetingId);
            _rooms.Open(meeting);
        }
    }

    /// <summary>
    /// Takes the control plane's answer: its revocations first (so a join woken by the placement already sees them),
    /// then the placement. Returns the placement, or null when the meeting does not exist or the answer is unusable.
    /// </summary>
    public PlacedMeeting? Learn(MeetingPlacement? answer)
    {
        if (answer is null || !answer.Exists || answer.MeetingId == Guid.Empty || string.IsNullOrWhiteSpace(answer.NodeId))
        {
            return null;
        }

        foreach (var attendeeId in answer.RevokedAttendeeIds ?? [])
        {
            _revoked.Revoke(answer.MeetingId, attendeeId);
        }

        var meeting = new PlacedMeeting(answer.MeetingId, answer.NodeId, answer.PrimaryMeetingId, answer.PrimaryNodeId, answer.MaxAttendees);
        Place(meeting);
        return _directory.Find(meeting.MeetingId);
    }

    public void End(Guid meetingId, string reason)
    {
        _directory.Delete(meetingId);
        _revoked.ForgetMeeting(meetingId);
        var sessions = _rooms.End(meetingId, reason);
        Log.MeetingEnded(_logger, meetingId, reason, sessions);
    }
}
