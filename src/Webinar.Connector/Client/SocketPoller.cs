using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Webinar.Connector.Client;

/// <summary>
/// Readiness of many sockets through one epoll(7) instance (Linux x64): a wait costs what is ready, not what is
/// registered, where <see cref="Socket.Select"/> builds and scans a list of every socket on each call. Level-triggered:
/// a socket stays ready until it is drained. Each socket is registered with a token that <see cref="Wait"/> hands back.
/// </summary>
internal sealed partial class SocketPoller : IDisposable
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const int EpollCloexec = 0x80000;
    private const int Eintr = 4;

    private readonly int _epoll;
    private readonly EpollEvent[] _events;

    public SocketPoller(int maxEventsPerWait)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("epoll is used on Linux x64 only.");
        }

        _epoll = epoll_create1(EpollCloexec);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        _events = new EpollEvent[maxEventsPerWait];
    }

    /// <summary>epoll on Linux x64 (where struct epoll_event is packed to 12 bytes, as declared here).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Watches <paramref name="socket"/> for readability; returns the descriptor to pass to <see cref="Remove"/>.</summary>
    public int Add(Socket socket, ulong token)
    {
        int fd = (int)socket.Handle;
        var change = new EpollEvent { Events = EpollIn, Data = token };
        if (epoll_ctl(_epoll, EpollCtlAdd, fd, ref change) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        return fd;
    }

    /// <summary>Stops watching a descriptor (before its socket is closed).</summary>
    public void Remove(int fd)
    {
        var change = default(EpollEvent);
        _ = epoll_ctl(_epoll, EpollCtlDel, fd, ref change);
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> and writes the tokens of ready sockets; returns how many.</summary>
    public int Wait(Span<ulong> ready, int timeoutMilliseconds)
    {
        int max = Math.Min(ready.Length, _events.Length);
        int count = epoll_wait(_epoll, _events, max, timeoutMilliseconds);
        if (count < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            return error == Eintr ? 0 : throw new SocketException(error);
        }

        for (int i = 0; i < count; i++)
        {
            ready[i] = _events[i].Data;
        }

        return count;
    }

    public void Dispose() => _ = close(_epoll);

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, ref EpollEvent change);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, [Out] EpollEvent[] events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = false)]
    private static partial int close(int fd);
}
