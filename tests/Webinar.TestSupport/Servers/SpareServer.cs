namespace Webinar.TestSupport.Servers;

/// <summary>
/// Hands out started servers of one kind. From the second request on (a run of several collections, which xunit runs
/// one after another) it starts the next server while the current collection runs, so a collection seldom waits for a
/// broker to boot. A spare left at the end is removed when the process exits (infra/test also removes leftovers).
/// </summary>
internal sealed class SpareServer<T>
    where T : class, IAsyncDisposable
{
    private readonly Func<Task<T>> _start;
    private readonly Lock _gate = new();
    private Task<T>? _spare;
    private int _requests;

    public SpareServer(Func<Task<T>> start)
    {
        _start = start;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveSpare();
    }

    public Task<T> TakeAsync()
    {
        lock (_gate)
        {
            var next = _spare ?? _start();
            _spare = ++_requests >= 2 ? _start() : null;
            return next;
        }
    }

    private void RemoveSpare()
    {
        Task<T>? spare;
        lock (_gate)
        {
            (spare, _spare) = (_spare, null);
        }

        if (spare is null)
        {
            return;
        }

        try
        {
            var removal = spare.ContinueWith(t => t.Result.DisposeAsync().AsTask(), TaskScheduler.Default).Unwrap();
            removal.Wait(TimeSpan.FromSeconds(20));
        }
        catch (AggregateException)
        {
            // The spare never started or is gone already: nothing to remove.
        }
    }
}
