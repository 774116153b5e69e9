using System.Collections.Concurrent;

namespace Webinar.Sfu.Meetings;

/// <summary>
/// Every meeting the node has heard of (each node consumes every placement event, and asks the control plane for
/// what it missed), the ones deleted since (tombstones, kept for <see cref="Hosting.SfuOptions.TombstoneRetention"/>
/// so that a late placement cannot bring a deleted meeting back), and joins waiting for a placement that has not
/// arrived yet. Thread-safe.
/// </summary>
internal sealed class MeetingDirectory
{
    private readonly ConcurrentDictionary<Guid, PlacedMeeting> _meetings = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _deleted = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<PlacedMeeting?>> _waiters = new();
    private readonly TimeProvider _time;

    public MeetingDirectory(TimeProvider time) => _time = time;

    public int Count => _meetings.Count;

    public int TombstoneCount => _deleted.Count;

    /// <summary>Records a placement; false (and nothing changes) when the meeting was deleted.</summary>
    public bool Place(PlacedMeeting meeting)
    {
        if (_deleted.ContainsKey(meeting.MeetingId))
        {
            return false;
        }

        _meetings[meeting.MeetingId] = meeting;

        // A delete may have landed between the check and the write.
        if (_deleted.ContainsKey(meeting.MeetingId))
        {
            _meetings.TryRemove(meeting.MeetingId, out _);
            return false;
        }

        if (_waiters.TryRemove(meeting.MeetingId, out var waiter))
        {
            waiter.TrySetResult(meeting);
        }

        return true;
    }

    /// <summary>Drops tombstones older than <paramref name="retention"/>; returns how many.</summary>
    public int PruneTombstones(TimeSpan retention)
    {
        var cutoff = _time.GetUtcNow() - retention;
        var removed = 0;
        foreach (var (meetingId, deletedAt) in _deleted)
        {
            if (deletedAt < cutoff && _deleted.TryRemove(meetingId, out _))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Forgets a deleted meeting for good: later placement events for it are ignored and joins refused at once.</summary>
    public void Delete(Guid meetingId)
    {
        _deleted[meetingId] = _time.GetUtcNow();
        _meetings.TryRemove(meetingId, out _);
        if (_waiters.TryRemove(meetingId, out var waiter))
        {
            waiter.TrySetResult(null);
        }
    }

    public bool IsDeleted(Guid meetingId) => _deleted.ContainsKey(meetingId);

    public PlacedMeeting? Find(Guid meetingId) => _meetings.GetValueOrDefault(meetingId);

    /// <summary>The meeting, waiting up to <paramref name="wait"/> for its placement event; null when unknown or deleted.</summary>
    public async ValueTask<PlacedMeeting?> WaitForAsync(Guid meetingId, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_meetings.TryGetValue(meetingId, out var known))
        {
            return known;
        }

        if (_deleted.ContainsKey(meetingId))
        {
            return null;
        }

        var waiter = _waiters.GetOrAdd(meetingId, static _ => new TaskCompletionSource<PlacedMeeting?>(TaskCreationOptions.RunContinuationsAsynchronously));

        // The event may have arrived between the first look and registering the waiter.
        if (_meetings.TryGetValue(meetingId, out known))
        {
            return known;
        }

        try
        {
            return await waiter.Task.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return _meetings.GetValueOrDefault(meetingId);
        }
    }
}
