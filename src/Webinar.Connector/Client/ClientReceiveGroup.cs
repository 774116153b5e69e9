using System.Diagnostics;
using System.Net.Sockets;

namespace Webinar.Connector.Client;

/// <summary>
/// A few threads that serve the sockets and timers of many <see cref="WebRtcClient"/>s (load generators: a thread per
/// subscriber would cost the generator more than the node it measures). Each thread owns a share of the clients; it
/// waits on all their sockets at once (poll(2) through <see cref="Socket.Select"/>), drains the ready ones and runs
/// every client's timers about every 10 ms. Clients join with <see cref="WebRtcClientOptions.ReceiveGroup"/>.
/// </summary>
public sealed class ClientReceiveGroup : IDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);
    private readonly Worker[] _workers;

    public ClientReceiveGroup(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _workers = new Worker[threads];
        for (int i = 0; i < threads; i++)
        {
            _workers[i] = new Worker(i);
        }
    }

    public int Threads => _workers.Length;

    internal void Add(WebRtcClient client)
    {
        var least = _workers[0];
        foreach (var worker in _workers)
        {
            if (worker.Count < least.Count)
            {
                least = worker;
            }
        }

        least.Add(client);
    }

    internal void Remove(WebRtcClient client)
    {
        foreach (var worker in _workers)
        {
            worker.Remove(client);
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Stop();
        }
    }

    private sealed class Worker
    {
        private readonly object _gate = new();
        private readonly Dictionary<Socket, WebRtcClient> _clients = [];
        private readonly Thread _thread;
        private volatile bool _stopping;

        public Worker(int index)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "client-receive-" + index };
            _thread.Start();
        }

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _clients.Count;
                }
            }
        }

        public void Add(WebRtcClient client)
        {
            lock (_gate)
            {
                _clients[client.Socket] = client;
            }
        }

        /// <summary>Returns once the thread no longer touches the client (it serves clients only under the lock).</summary>
        public void Remove(WebRtcClient client)
        {
            lock (_gate)
            {
                _clients.Remove(client.Socket);
            }
        }

        public void Stop()
        {
            _stopping = true;
            _thread.Join(TimeSpan.FromSeconds(2));
        }

        private void Run()
        {
            var ready = new List<Socket>();
            long tickEvery = (long)(TickInterval.TotalSeconds * Stopwatch.Frequency);
            long nextTick = 0;
            while (!_stopping)
            {
                lock (_gate)
                {
                    long now = Stopwatch.GetTimestamp();
                    if (now >= nextTick)
                    {
                        nextTick = now + tickEvery;
                        foreach (var client in _clients.Values)
                        {
                            client.ServiceTimers();
                        }
                    }

                    ready.Clear();
                    ready.AddRange(_clients.Keys);
                }

                if (ready.Count == 0)
                {
                    Thread.Sleep(TickInterval);
                    continue;
                }

                try
                {
                    Socket.Select(ready, null, null, (int)TickInterval.TotalMicroseconds);
                }
                catch (Exception exception) when (exception is ObjectDisposedException or SocketException)
                {
                    // A client closed its socket during the wait; the next pass no longer lists it.
                    continue;
                }

                lock (_gate)
                {
                    foreach (var socket in ready)
                    {
                        if (_clients.TryGetValue(socket, out var client))
                        {
                            client.ServiceReceive();
                        }
                    }
                }
            }
        }
    }
}
