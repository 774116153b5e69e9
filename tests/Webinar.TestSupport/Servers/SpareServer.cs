namespace Webinar.TestSupport.Servers;

/// <summary>
/// Hands out started servers of one kind. From the second request on (a run of several collections, which xunit runs
/// one after another) it starts the next server while the current collection runs, so a collection seldom waits for a
/// broker to boot. A spare left at the end is removed when the process exits (<see cref="Leftovers"/>).
/// </summary>
internal sealed class SpareServer<T>
    where T : class, IAsyncDisposable
{
    private readonly Func<Task<T>> _start;
    private readonly Lock _gate = new();
    private Task<T>? _spare;
    private int _requests;

    public SpareServer(Func<Task<T>> start) => _start = start;

    public Task<T> TakeAsync()
    {
        lock (_gate)
        {
            var next = _spare ?? _start();
            _spare = ++_requests >= 2 ? _start() : null;
            return next;
        }
    }
}
