using System.Collections.Concurrent;

namespace Webinar.Sfu.Meetings;

/// <summary>
/// Attendees deleted by DeleteAttendee (told by the event, or by the control plane when the node learns a meeting):
/// their join tokens no longer work on this node. An entry is forgotten when its meeting is deleted (every token of
/// the meeting is refused then) or after <see cref="Hosting.SfuOptions.RevocationRetention"/>, by when the token
/// has expired. Thread-safe.
/// </summary>
internal sealed class RevokedAttendees
{
    private readonly ConcurrentDictionary<Guid, Revocation> _revoked = new();
    private readonly TimeProvider _time;

    public RevokedAttendees(TimeProvider time) => _time = time;

    public int Count => _revoked.Count;

    public void Revoke(Guid meetingId, Guid attendeeId) => _revoked.TryAdd(attendeeId, new Revocation(meetingId, _time.GetUtcNow()));

    public bool IsRevoked(Guid attendeeId) => _revoked.ContainsKey(attendeeId);

    /// <summary>Drops the revocations of a deleted meeting.</summary>
    public void ForgetMeeting(Guid meetingId)
    {
        foreach (var (attendeeId, revocation) in _revoked)
        {
            if (revocation.MeetingId == meetingId)
            {
                _revoked.TryRemove(attendeeId, out _);
            }
        }
    }

    /// <summary>Drops revocations older than <paramref name="retention"/>; returns how many.</summary>
    public int Prune(TimeSpan retention)
    {
        var cutoff = _time.GetUtcNow() - retention;
        var removed = 0;
        foreach (var (attendeeId, revocation) in _revoked)
        {
            if (revocation.At < cutoff && _revoked.TryRemove(attendeeId, out _))
            {
                removed++;
            }
        }

        return removed;
    }

    private sealed record Revocation(Guid MeetingId, DateTimeOffset At);
}
