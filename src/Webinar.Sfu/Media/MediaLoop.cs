using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Webinar.Sfu.Media;

/// <summary>What the media loop hands each datagram and each timer tick to.</summary>
internal interface IMediaLoopHandler
{
    /// <summary>A datagram arrived. <paramref name="datagram"/> and <paramref name="from"/> are reused after the call returns.</summary>
    void OnDatagram(Span<byte> datagram, SocketAddress from);

    /// <summary>Called about every <see cref="MediaLoop.TickInterval"/> on the loop thread.</summary>
    void OnTick(long nowTicks);
}

/// <summary>
/// The node's media thread: one UDP socket and one dedicated thread that receives, demultiplexes, forwards and runs
/// the media timers. Every piece of media state (transports, producers, consumers, SRTP contexts) is touched only
/// here, so the packet path takes no locks; other threads hand work over with <see cref="Post"/>.
/// </summary>
internal sealed class MediaLoop : IDisposable
{
    public const int MaxDatagram = 1500;
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly byte[] _receiveBuffer = GC.AllocateUninitializedArray<byte>(MaxDatagram + 64, pinned: true);
    private readonly SocketAddress _from;
    private readonly TimeProvider _time;
    private readonly MediaCounters _counters;
    private readonly Thread _thread;
    private IMediaLoopHandler? _handler;
    private volatile bool _stopping;

    public MediaLoop(IPEndPoint bindTo, TimeProvider time, MediaCounters counters)
    {
        _time = time;
        _counters = counters;
        _socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.ReceiveBufferSize = 4 * 1024 * 1024;
        _socket.SendBufferSize = 4 * 1024 * 1024;
        _socket.Bind(bindTo);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _from = new SocketAddress(bindTo.AddressFamily);
        _thread = new Thread(Run) { IsBackground = true, Name = "media-loop" };
    }

    public IPEndPoint LocalEndPoint { get; }

    public int ManagedThreadId => _thread.ManagedThreadId;

    public bool IsOnLoop => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    public void Start(IMediaLoopHandler handler)
    {
        _handler = handler;
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> on the media thread, between two datagrams.</summary>
    public void Post(Action action) => _commands.Enqueue(action);

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

    /// <summary>Sends one datagram. Safe from any thread (the DTLS handshake threads send too).</summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
            _counters.DatagramsSent++;
            _counters.BytesSent += datagram.Length;
        }
        catch (SocketException)
        {
            // A full send buffer or an unreachable peer loses this one datagram, like any UDP loss.
            _counters.SendErrors++;
        }
    }

    private void Run()
    {
        var handler = _handler!;
        var tickEvery = (long)(TickInterval.TotalSeconds * _time.TimestampFrequency);
        var nextTick = _time.GetTimestamp();
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
                    _counters.HandlerErrors++;
                }
            }

            int received;
            try
            {
                if (_socket.Available == 0 && !_socket.Poll(TickInterval, SelectMode.SelectRead))
                {
                    continue;
                }

                received = _socket.ReceiveFrom(_receiveBuffer.AsSpan(0, MaxDatagram), SocketFlags.None, _from);
            }
            catch (SocketException)
            {
                // ICMP errors surface on the next receive of an unconnected UDP socket; they say nothing about this datagram.
                continue;
            }
            catch (ObjectDisposedException)
            {
                break;
            }

            _counters.DatagramsReceived++;
            try
            {
                handler.OnDatagram(_receiveBuffer.AsSpan(0, received), _from);
            }
            catch (Exception)
            {
                // One bad datagram never stops the node: it is dropped and counted.
                _counters.HandlerErrors++;
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
            _counters.HandlerErrors++;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }

        _socket.Dispose();
    }
}
