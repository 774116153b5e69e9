using System.Collections.Concurrent;

namespace Webinar.Sfu.Meetings;

/// <summary>Attendees deleted by DeleteAttendee: their join tokens no longer work on this node. Thread-safe.</summary>
internal sealed class RevokedAttendees
{
    private readonly ConcurrentDictionary<Guid, byte> _revoked = new();

    public void Revoke(Guid attendeeId) => _revoked.TryAdd(attendeeId, 0);

    public bool IsRevoked(Guid attendeeId) => _revoked.ContainsKey(attendeeId);
}
