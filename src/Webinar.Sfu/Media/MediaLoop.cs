using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Webinar.Sfu.Media;

/// <summary>What the media loop hands each datagram and each timer tick to.</summary>
internal interface IMediaLoopHandler
{
    /// <summary>
    /// A datagram arrived on <paramref name="via"/> (a UDP socket or an ICE-TCP connection). <paramref name="datagram"/>
    /// and <paramref name="from"/> are reused after the call returns.
    /// </summary>
    void OnDatagram(Span<byte> datagram, SocketAddress from, MediaSocket via);

    /// <summary>Called about every <see cref="MediaLoop.TickInterval"/> on the loop thread.</summary>
    void OnTick(long nowTicks);

    /// <summary>An ICE-TCP connection ended (or was closed by the loop). Loop thread.</summary>
    void OnTcpClosed(IceTcpConnection connection);
}

/// <summary>Where the media loop listens: one UDP socket per address, and an ICE-TCP listener per address when enabled.</summary>
internal sealed record MediaLoopSettings(IReadOnlyList<MediaListenAddress> Addresses, int UdpPort, int? TcpPort)
{
    public TimeSpan TcpHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxTcpConnections { get; init; } = 2000;

    /// <summary>Datagrams the media thread hands the kernel at once per UDP socket (sendmmsg on Linux x64); 1 sends each alone.</summary>
    public int SendBatch { get; init; } = 64;
}

/// <summary>
/// The node's media thread: one UDP socket per listen address (so every reply leaves from the address it was sent
/// to), the ICE-TCP listeners and connections, and one dedicated thread that waits on all of them, receives,
/// demultiplexes, forwards and runs the media timers. Every piece of media state (transports, producers, consumers,
/// SRTP contexts) is touched only here, so the packet path takes no locks; other threads hand work over with
/// <see cref="Post"/>, which wakes a waiting loop at once (a datagram to its own loopback wake socket) instead of
/// leaving the work to the next tick: a signalling step that hops onto the media thread (promote, an offer, a
/// demotion) costs microseconds, not up to one <see cref="TickInterval"/>.
/// </summary>
internal sealed class MediaLoop : IDisposable
{
    public const int MaxDatagram = 1500;
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Datagrams read from one socket before the others get their turn.</summary>
    private const int Burst = 64;

    private readonly UdpMediaSocket[] _udp;
    private readonly (Socket Socket, MediaListenAddress Address)[] _tcpListeners;
    private readonly List<IceTcpConnection> _tcp = [];
    private readonly Dictionary<Socket, object> _bySocket = [];
    private readonly List<Socket> _readable = [];
    private readonly List<Socket> _writable = [];
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly Socket _wake;
    private readonly EndPoint _wakeEndPoint;
    private readonly byte[] _wakeBuffer = new byte[16];
    private int _waiting; // 1 while the loop waits in Select: the next Post sends the wake datagram
    private readonly byte[] _receiveBuffer = GC.AllocateUninitializedArray<byte>(MaxDatagram + 64, pinned: true);
    private readonly TimeProvider _time;
    private readonly MediaCounters _counters;
    private readonly MediaLoopSettings _settings;
    private readonly long _tcpHandshakeTicks;
    private readonly Thread _thread;
    private IMediaLoopHandler? _handler;
    private volatile bool _stopping;

    public MediaLoop(MediaLoopSettings settings, TimeProvider time, MediaCounters counters)
    {
        _time = time;
        _counters = counters;
        _settings = settings;
        _tcpHandshakeTicks = (long)(settings.TcpHandshakeTimeout.TotalSeconds * time.TimestampFrequency);
        var udp = new List<UdpMediaSocket>();
        var tcp = new List<(Socket, MediaListenAddress)>();
        try
        {
            foreach (var address in settings.Addresses)
            {
                var socket = new UdpMediaSocket(address, settings.UdpPort, counters, settings.SendBatch);
                udp.Add(socket);
                _bySocket[socket.Socket] = socket;
                if (settings.TcpPort is { } tcpPort)
                {
                    var listener = new Socket(address.Bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    tcp.Add((listener, address));
                    listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    listener.Bind(new IPEndPoint(address.Bind, tcpPort));
                    listener.Listen(128);
                    listener.Blocking = false;
                    _bySocket[listener] = address;
                }
            }
        }
        catch
        {
            udp.ForEach(s => s.Dispose());
            tcp.ForEach(t => t.Item1.Dispose());
            throw;
        }

        _udp = [.. udp];
        _tcpListeners = [.. tcp];
        _wake = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        _wake.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _wakeEndPoint = _wake.LocalEndPoint!;
        _bySocket[_wake] = _wake;
        _thread = new Thread(Run) { IsBackground = true, Name = "media-loop" };
    }

    /// <summary>The UDP sockets, one per listen address, in configuration order.</summary>
    public IReadOnlyList<UdpMediaSocket> UdpSockets => _udp;

    /// <summary>The ICE-TCP listening endpoint of each listen address (empty when ICE-TCP is off).</summary>
    public IReadOnlyList<(MediaListenAddress Address, IPEndPoint EndPoint)> TcpEndPoints =>
        _tcpListeners.Select(l => (l.Address, (IPEndPoint)l.Socket.LocalEndPoint!)).ToArray();

    /// <summary>The first UDP socket's endpoint.</summary>
    public IPEndPoint LocalEndPoint => _udp[0].LocalEndPoint;

    /// <summary>Open ICE-TCP connections (loop thread).</summary>
    public IReadOnlyList<IceTcpConnection> TcpConnections => _tcp;

    public void Start(IMediaLoopHandler handler)
    {
        _handler = handler;
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> on the media thread, between two datagrams.</summary>
    public void Post(Action action)
    {
        _commands.Enqueue(action);
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            try
            {
                _wake.SendTo([0], _wakeEndPoint);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopping, or a full buffer: the loop still runs the command at its next tick.
            }
        }
    }

    /// <summary>Runs <paramref name="func"/> on the media thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> func)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                done.SetResult(func());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>Sends one datagram from the first UDP socket. Safe from any thread.</summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to) => _udp[0].Send(datagram, to);

    /// <summary>Closes an ICE-TCP connection (its transport closed, or it never authenticated). Loop thread.</summary>
    public void CloseTcp(IceTcpConnection connection)
    {
        if (_tcp.Remove(connection))
        {
            _bySocket.Remove(connection.Socket);
            connection.Dispose();
            _handler?.OnTcpClosed(connection);
        }
    }

    private void Run()
    {
        var handler = _handler!;
        var tickEvery = (long)(TickInterval.TotalSeconds * _time.TimestampFrequency);
        var nextTick = _time.GetTimestamp();
        var waitMicros = (int)(TickInterval.TotalMilliseconds * 1000);
        while (!_stopping)
        {
            while (_commands.TryDequeue(out var command))
            {
                RunGuarded(command);
            }

            var now = _time.GetTimestamp();
            if (now >= nextTick)
            {
                nextTick = now + tickEvery;
                try
                {
                    handler.OnTick(now);
                }
                catch (Exception)
                {
                    _counters.LoopErrors++;
                }

                ExpireTcp(now);
            }

            try
            {
                // While UDP is busy, TCP is only polled (no wait) between two bursts; otherwise the loop waits on every socket.
                // What the burst (and the commands and timers before it) queued goes out before any wait.
                var busy = DrainUdp(handler);
                FlushSends();
                _readable.Clear();
                _writable.Clear();
                if (!busy)
                {
                    foreach (var udp in _udp)
                    {
                        _readable.Add(udp.Socket);
                    }
                }

                foreach (var (listener, _) in _tcpListeners)
                {
                    _readable.Add(listener);
                }

                foreach (var connection in _tcp)
                {
                    _readable.Add(connection.Socket);
                    if (connection.HasBacklog)
                    {
                        _writable.Add(connection.Socket);
                    }
                }

                _readable.Add(_wake);
                var wait = busy ? 0 : waitMicros;
                if (wait > 0)
                {
                    // Announce the wait, then look once more: a command posted before the announcement sent no wake.
                    Volatile.Write(ref _waiting, 1);
                    if (!_commands.IsEmpty)
                    {
                        wait = 0;
                    }
                }

                Socket.Select(_readable, _writable.Count > 0 ? _writable : null, null, wait);
                Volatile.Write(ref _waiting, 0);
                foreach (var socket in _writable)
                {
                    if (_bySocket.TryGetValue(socket, out var owner) && owner is IceTcpConnection writable)
                    {
                        writable.Flush();
                    }
                }

                foreach (var socket in _readable)
                {
                    if (!_bySocket.TryGetValue(socket, out var owner))
                    {
                        continue;
                    }

                    if (owner == _wake)
                    {
                        DrainWake();
                    }
                    else if (owner is UdpMediaSocket udp)
                    {
                        // Readable with nothing Available is an empty datagram at the head of the queue: take it.
                        Receive(handler, udp);
                    }
                    else if (owner is MediaListenAddress address)
                    {
                        Accept(socket, address);
                    }
                    else if (owner is IceTcpConnection connection && !connection.Receive(handler))
                    {
                        CloseTcp(connection);
                    }
                }

                FlushSends();
            }
            catch (SocketException)
            {
                // A failed wait or accept says nothing about the next round.
            }
            catch (ObjectDisposedException)
            {
                if (_stopping)
                {
                    break;
                }
            }
            catch (Exception)
            {
                // Whatever went wrong in one round (a socket closed under the wait), the next round starts clean.
                _counters.HandlerErrors++;
            }
        }
    }

    /// <summary>Sends what the media thread queued on every UDP socket (<see cref="MediaSocket.SendFromLoop"/>). Loop thread.</summary>
    public void FlushSends()
    {
        foreach (var udp in _udp)
        {
            udp.FlushSends();
        }
    }

    /// <summary>Reads up to <see cref="Burst"/> datagrams from each UDP socket that has some; true when any did.</summary>
    private bool DrainUdp(IMediaLoopHandler handler)
    {
        var any = false;
        foreach (var udp in _udp)
        {
            for (var i = 0; i < Burst && udp.Socket.Available > 0; i++)
            {
                any = true;
                Receive(handler, udp);
            }
        }

        return any;
    }

    private void Receive(IMediaLoopHandler handler, UdpMediaSocket udp)
    {
        int received;
        try
        {
            received = udp.Socket.ReceiveFrom(_receiveBuffer.AsSpan(0, MaxDatagram), SocketFlags.None, udp.ReceiveAddress);
        }
        catch (SocketException)
        {
            // ICMP errors surface on the next receive of an unconnected UDP socket; they say nothing about this datagram.
            return;
        }

        _counters.DatagramsReceived++;
        try
        {
            handler.OnDatagram(_receiveBuffer.AsSpan(0, received), udp.ReceiveAddress, udp);
        }
        catch (Exception)
        {
            // One bad datagram never stops the node: it is dropped and counted.
            _counters.HandlerErrors++;
        }
    }

    private void Accept(Socket listener, MediaListenAddress address)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = listener.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }

            if (_tcp.Count >= _settings.MaxTcpConnections)
            {
                _counters.TcpRefused++;
                accepted.Dispose();
                continue;
            }

            var connection = new IceTcpConnection(accepted, address, _counters, _time.GetTimestamp());
            _tcp.Add(connection);
            _bySocket[accepted] = connection;
            _counters.TcpAccepted++;
        }
    }

    /// <summary>Closes ICE-TCP connections that ended while sending, or never carried a valid check in time.</summary>
    private void ExpireTcp(long now)
    {
        for (var i = _tcp.Count - 1; i >= 0; i--)
        {
            var connection = _tcp[i];
            if (connection.IsClosed || (connection.Owner is null && now - connection.AcceptedAt > _tcpHandshakeTicks)
                || connection.Owner is { IsClosed: true })
            {
                CloseTcp(connection);
            }
        }
    }

    private void RunGuarded(Action command)
    {
        try
        {
            command();
        }
        catch (Exception)
        {
            _counters.LoopErrors++;
        }
    }

    /// <summary>Empties the wake socket (one datagram per wake, a few at most). Loop thread.</summary>
    private void DrainWake()
    {
        for (var i = 0; i < 64 && _wake.Available > 0; i++)
        {
            _wake.Receive(_wakeBuffer);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Post(static () => { });
        if (_thread.IsAlive)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }

        _wake.Dispose();

        foreach (var udp in _udp)
        {
            udp.Dispose();
        }

        foreach (var (listener, _) in _tcpListeners)
        {
            listener.Dispose();
        }

        foreach (var connection in _tcp)
        {
            connection.Dispose();
        }
    }
}
