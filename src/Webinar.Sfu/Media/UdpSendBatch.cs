using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Webinar.Sfu.Media;

/// <summary>
/// Datagrams of one UDP socket queued on the media thread and handed to the kernel together with one sendmmsg(2)
/// (Linux x64): a publisher's packet fanned out to N consumers costs one system call per batch instead of one per
/// consumer. Each datagram is copied into a slot of native memory allocated once (payload, destination address and
/// the mmsghdr/iovec that point at them), so queuing allocates nothing. <see cref="Flush"/> runs at the end of each
/// receive burst and whenever the batch is full. Loop thread only.
/// </summary>
internal sealed unsafe partial class UdpSendBatch : IDisposable
{
    /// <summary>Room per slot: a full datagram plus the SRTP tag, rounded up.</summary>
    public const int SlotBytes = 1536;

    /// <summary>The most datagrams one sendmmsg takes (UIO_MAXIOV).</summary>
    public const int MaxCapacity = 1024;

    private const int AddressBytes = 128; // sockaddr_storage
    private const int Eintr = 4;

    private readonly Socket _socket;
    private readonly MediaCounters _counters;
    private readonly int _capacity;
    private readonly MessageHeader* _headers;
    private readonly IoVector* _vectors;
    private readonly byte* _addresses;
    private readonly byte* _data;
    private int _count;
    private bool _disposed;

    public UdpSendBatch(Socket socket, int capacity, MediaCounters counters)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("sendmmsg is used on Linux x64 only.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _socket = socket;
        _counters = counters;
        _capacity = capacity;
        _headers = (MessageHeader*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MessageHeader));
        _vectors = (IoVector*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVector));
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)capacity, AddressBytes);
        _data = (byte*)NativeMemory.Alloc((nuint)capacity, SlotBytes);
        for (var i = 0; i < capacity; i++)
        {
            _vectors[i].Base = _data + (long)i * SlotBytes;
            _headers[i].Name = _addresses + (long)i * AddressBytes;
            _headers[i].Vector = &_vectors[i];
            _headers[i].VectorLength = 1;
        }
    }

    /// <summary>sendmmsg(2) through P/Invoke on Linux x64 (where struct mmsghdr is laid out as declared here).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Datagrams queued and not yet sent.</summary>
    public int Count => _count;

    /// <summary>Queues one datagram to <paramref name="to"/>; sends the batch first when it is full.</summary>
    public void Add(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (datagram.Length > SlotBytes || to.Size > AddressBytes)
        {
            _counters.SendErrors++;
            return;
        }

        if (_count == _capacity)
        {
            Flush();
        }

        var slot = _count++;
        datagram.CopyTo(new Span<byte>(_vectors[slot].Base, SlotBytes));
        _vectors[slot].Length = (nuint)datagram.Length;
        to.Buffer.Span[..to.Size].CopyTo(new Span<byte>(_headers[slot].Name, AddressBytes));
        _headers[slot].NameLength = (uint)to.Size;
    }

    /// <summary>Hands every queued datagram to the kernel; one that fails is counted and the rest still go.</summary>
    public void Flush()
    {
        var next = 0;
        while (next < _count && !_disposed)
        {
            int sent;
            try
            {
                sent = sendmmsg((int)_socket.Handle, _headers + next, (uint)(_count - next), 0);
            }
            catch (ObjectDisposedException)
            {
                _counters.SendErrors += _count - next;
                break;
            }

            if (sent < 0)
            {
                if (Marshal.GetLastPInvokeError() == Eintr)
                {
                    continue;
                }

                // The first of the remaining datagrams failed (a full buffer, an unreachable peer): it is lost like
                // any UDP loss; the others get their own try.
                _counters.SendErrors++;
                next++;
                continue;
            }

            for (var i = next; i < next + sent; i++)
            {
                _counters.DatagramsSent++;
                _counters.BytesSent += (long)_vectors[i].Length;
            }

            next += sent;
        }

        _count = 0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.Free(_headers);
        NativeMemory.Free(_vectors);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_data);
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct mmsghdr: a struct msghdr (56 bytes on x64) and the byte count the kernel writes back.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct MessageHeader
    {
        [FieldOffset(0)] public byte* Name;
        [FieldOffset(8)] public uint NameLength;
        [FieldOffset(16)] public IoVector* Vector;
        [FieldOffset(24)] public nuint VectorLength;
        [FieldOffset(32)] public void* Control;
        [FieldOffset(40)] public nuint ControlLength;
        [FieldOffset(48)] public int Flags;
        [FieldOffset(56)] public uint SentBytes;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sendmmsg(int fd, MessageHeader* messages, uint count, int flags);
}
