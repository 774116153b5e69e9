namespace Webinar.Media.Dtls;

/// <summary>
/// A small bounded set of threads that run DTLS handshake work. Two kinds of work use it: BouncyCastle's blocking
/// protocol (the client role, and the BouncyCastle server kept as a fallback), where a handshake occupies a thread while
/// it waits for the peer's next flight (a server handshake is handed to a worker only once its ClientHello has arrived,
/// at most <see cref="MaxThreads"/> run at once, the rest queue, and the <see cref="DtlsTransportOptions.HandshakeTimeout"/>
/// covers the time queued); and the OpenSSL server's short steps (one received datagram or timer each, never a wait),
/// which <see cref="OpenSsl"/> runs on one thread per core.
/// Workers measure the CPU time they spend (the thread's own clock), which the benchmarks and metrics read.
/// </summary>
public sealed class DtlsHandshakeWorkers
{
    private readonly object _gate = new();
    private readonly Queue<WorkItem> _queue = new();
    private int _threads;
    private int _idle;
    private long _cpuNanoseconds;
    private long _completed;

    public DtlsHandshakeWorkers(int maxThreads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        MaxThreads = maxThreads;
    }

    /// <summary>The process's server-handshake workers: 8 per core, at least 16.</summary>
    public static DtlsHandshakeWorkers Server { get; } = new(Math.Max(16, 8 * Environment.ProcessorCount));

    /// <summary>
    /// The process's OpenSSL server steps: one thread per core. A step never waits, so 249 concurrent handshakes cost
    /// CPU, not threads.
    /// </summary>
    public static DtlsHandshakeWorkers OpenSsl { get; } = new(Environment.ProcessorCount);

    public int MaxThreads { get; }

    /// <summary>Threads started so far (never more than <see cref="MaxThreads"/>).</summary>
    public int Threads => Volatile.Read(ref _threads);

    /// <summary>Handshakes waiting for a worker.</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Work items run to completion.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>CPU time the workers spent running handshakes, summed over threads.</summary>
    public TimeSpan CpuTime => TimeSpan.FromTicks(Interlocked.Read(ref _cpuNanoseconds) / 100);

    /// <summary>Runs <paramref name="work"/> on a worker; the task completes with its result or exception.</summary>
    public Task<T> Run<T>(Func<object?, T> work, object? state)
    {
        var item = new WorkItem<T>(this, work, state);
        Enqueue(item);
        return item.Task;
    }

    /// <summary>
    /// Work that starts later, when <see cref="Deferred{T}.Start"/> is called (from any thread, even the media thread:
    /// starting only queues it). Its task completes with the result or exception.
    /// </summary>
    internal Deferred<T> Prepare<T>(Func<object?, T> work, object? state) => new WorkItem<T>(this, work, state);

    /// <summary>Queues a work item that the caller makes sure is queued at most once at a time.</summary>
    internal void Post(WorkItem item) => Enqueue(item);

    private void Enqueue(WorkItem item)
    {
        var start = false;
        lock (_gate)
        {
            _queue.Enqueue(item);
            if (_idle == 0 && _threads < MaxThreads)
            {
                _threads++;
                start = true;
            }
            else
            {
                Monitor.Pulse(_gate);
            }
        }

        if (start)
        {
            new Thread(static self => ((DtlsHandshakeWorkers)self!).Loop())
            {
                IsBackground = true,
                Name = "dtls-handshake",
            }.Start(this);
        }
    }

    private void Loop()
    {
        while (true)
        {
            WorkItem item;
            lock (_gate)
            {
                while (_queue.Count == 0)
                {
                    _idle++;
                    Monitor.Wait(_gate);
                    _idle--;
                }

                item = _queue.Dequeue();
            }

            var before = ThreadCpu.Nanoseconds();
            item.Execute();
            Interlocked.Add(ref _cpuNanoseconds, ThreadCpu.Nanoseconds() - before);
            Interlocked.Increment(ref _completed);
        }
    }

    /// <summary>One queued piece of work.</summary>
    internal abstract class WorkItem
    {
        public abstract void Execute();
    }

    internal abstract class Deferred<T> : WorkItem
    {
        public abstract Task<T> Task { get; }

        /// <summary>Queues the work; later calls do nothing.</summary>
        public abstract void Start();
    }

    private sealed class WorkItem<T>(DtlsHandshakeWorkers owner, Func<object?, T> work, object? state) : Deferred<T>
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public override Task<T> Task => _result.Task;

        public override void Start()
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                owner.Enqueue(this);
            }
        }

        public override void Execute()
        {
            try
            {
                _result.TrySetResult(work(state));
            }
            catch (Exception exception)
            {
                _result.TrySetException(exception);
            }
        }
    }
}
