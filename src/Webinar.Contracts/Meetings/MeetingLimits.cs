namespace Webinar.Contracts.Meetings;

/// <summary>Limits of a meeting that the control plane and every node agree on.</summary>
public static class MeetingLimits
{
    /// <summary>Most attendees a meeting may have: the largest MaxCount a meeting is created with, and its default.</summary>
    public const int MaxAttendees = 250;
}
