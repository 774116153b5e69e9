using System.Diagnostics;

namespace Webinar.TestSupport.Network;

/// <summary>
/// Holds each payload for its link's delay (plus jitter) on one thread of its own, drops a fraction of them, and
/// hands the rest to <c>deliver</c> in the order they were offered. Counts what it passed and what it dropped.
/// </summary>
public sealed class DelayLine : IDisposable
{
    private readonly LinkProfile _profile;
    private readonly Action<byte[], int> _deliver;
    private readonly Random _random;
    private readonly Queue<(long Due, byte[] Buffer, int Length)> _queue = new();
    private readonly Lock _gate = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private long _lastDue;
    private volatile bool _stopped;
    private long _passed, _dropped;

    public DelayLine(LinkProfile profile, Action<byte[], int> deliver, string name)
    {
        profile.Validate();
        _profile = profile;
        _deliver = deliver;
        _random = new Random(profile.Seed);
        _thread = new Thread(Run) { IsBackground = true, Name = name, Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public long Passed => Interlocked.Read(ref _passed);
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Takes a copy of <paramref name="payload"/> (the caller's buffer is reused for its next receive).</summary>
    public void Offer(ReadOnlySpan<byte> payload)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_profile.LossRate > 0 && _random.NextDouble() < _profile.LossRate)
            {
                _dropped++;
                return;
            }
            double jitter = _profile.Jitter == TimeSpan.Zero ? 0 : (_random.NextDouble() * 2 - 1) * _profile.Jitter.TotalSeconds;
            long due = now + (long)((_profile.OneWayDelay.TotalSeconds + jitter) * Stopwatch.Frequency);
            if (due < _lastDue)
            {
                due = _lastDue; // never reorder
            }

            _lastDue = due;
            _queue.Enqueue((due, payload.ToArray(), payload.Length));
        }
        _wake.Set();
    }

    private void Run()
    {
        while (!_stopped)
        {
            (long Due, byte[] Buffer, int Length) next;
            lock (_gate)
            {
                if (!_queue.TryPeek(out next))
                {
                    next = default;
                }
            }
            if (next.Buffer is null)
            {
                _wake.WaitOne(50);
                continue;
            }
            long wait = next.Due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                // Sleep coarsely, then spin the last millisecond: Linux wakes a sleeping thread ~0.1 ms late.
                double ms = wait * 1000.0 / Stopwatch.Frequency;
                if (ms > 1.5)
                {
                    _wake.WaitOne(TimeSpan.FromMilliseconds(ms - 1));
                }
                else
                {
                    Thread.SpinWait(50);
                }

                continue;
            }
            lock (_gate)
            {
                _queue.Dequeue();
            }

            try
            {
                _deliver(next.Buffer, next.Length);
                Interlocked.Increment(ref _passed);
            }
            catch (Exception) when (_stopped)
            {
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Interlocked.Increment(ref _dropped); // the far side went away: a network drops it too
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(2));
        _wake.Dispose();
    }
}
