using System.Diagnostics;
using System.Net.Sockets;

namespace Webinar.Connector.Client;

/// <summary>
/// A few threads that serve the sockets and timers of many <see cref="WebRtcClient"/>s (load generators: a thread per
/// subscriber would cost the generator more than the node it measures). Each thread owns a share of the clients; it
/// waits on all their sockets at once (epoll(7) through <see cref="SocketPoller"/> on Linux x64, else
/// <see cref="Socket.Select"/>), drains the ready ones and runs
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
        private readonly Dictionary<ulong, WebRtcClient> _byToken = [];
        private readonly Dictionary<WebRtcClient, (ulong Token, int Fd)> _registrations = [];
        private readonly SocketPoller? _poller = SocketPoller.IsSupported ? new SocketPoller(256) : null;
        private readonly Thread _thread;
        private ulong _nextToken;
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
                if (_poller is not null)
                {
                    ulong token = ++_nextToken;
                    _byToken[token] = client;
                    _registrations[client] = (token, _poller.Add(client.Socket, token));
                }
            }
        }

        /// <summary>Returns once the thread no longer touches the client (it serves clients only under the lock).</summary>
        public void Remove(WebRtcClient client)
        {
            lock (_gate)
            {
                _clients.Remove(client.Socket);
                if (_poller is not null && _registrations.Remove(client, out var registration))
                {
                    _byToken.Remove(registration.Token);
                    _poller.Remove(registration.Fd);
                }
            }
        }

        public void Stop()
        {
            _stopping = true;
            _thread.Join(TimeSpan.FromSeconds(2));
            _poller?.Dispose();
        }

        private void Run()
        {
            if (_poller is not null)
            {
                RunEpoll(_poller);
            }
            else
            {
                RunSelect();
            }
        }

        private void ServiceTimersIfDue(ref long nextTick, long tickEvery)
        {
            long now = Stopwatch.GetTimestamp();
            if (now < nextTick)
            {
                return;
            }

            nextTick = now + tickEvery;
            lock (_gate)
            {
                foreach (var client in _clients.Values)
                {
                    client.ServiceTimers();
                }
            }
        }

        /// <summary>One epoll wait per round: the cost follows the sockets that are ready, not the sockets served.</summary>
        private void RunEpoll(SocketPoller poller)
        {
            var ready = new ulong[256];
            long tickEvery = (long)(TickInterval.TotalSeconds * Stopwatch.Frequency);
            long nextTick = 0;
            while (!_stopping)
            {
                ServiceTimersIfDue(ref nextTick, tickEvery);
                long untilTick = Math.Max(0, nextTick - Stopwatch.GetTimestamp());
                int waitMillis = (int)Math.Clamp(untilTick * 1000 / Stopwatch.Frequency, 1, (long)TickInterval.TotalMilliseconds);
                int count;
                try
                {
                    count = poller.Wait(ready, waitMillis);
                }
                catch (SocketException)
                {
                    continue;
                }

                if (count == 0)
                {
                    continue;
                }

                lock (_gate)
                {
                    for (int i = 0; i < count; i++)
                    {
                        if (_byToken.TryGetValue(ready[i], out var client))
                        {
                            client.ServiceReceive();
                        }
                    }
                }
            }
        }

        private void RunSelect()
        {
            var ready = new List<Socket>();
            long tickEvery = (long)(TickInterval.TotalSeconds * Stopwatch.Frequency);
            long nextTick = 0;
            while (!_stopping)
            {
                ServiceTimersIfDue(ref nextTick, tickEvery);
                lock (_gate)
                {
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
