using System.Collections.Concurrent;

namespace Webinar.Sfu.Meetings;

/// <summary>
/// Every meeting the node has heard of (each node consumes every placement event), the ones deleted since,
/// and joins waiting for a placement event that has not arrived yet. Thread-safe.
/// </summary>
internal sealed class MeetingDirectory
{
    private readonly ConcurrentDictionary<Guid, PlacedMeeting> _meetings = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _deleted = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<PlacedMeeting?>> _waiters = new();
    private readonly TimeProvider _time;

    public MeetingDirectory(TimeProvider time) => _time = time;

    public void Place(PlacedMeeting meeting)
    {
        if (_deleted.ContainsKey(meeting.MeetingId))
        {
            return;
        }

        _meetings[meeting.MeetingId] = meeting;
        if (_waiters.TryRemove(meeting.MeetingId, out var waiter))
        {
            waiter.TrySetResult(meeting);
        }
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
