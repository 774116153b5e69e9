using System.Net;
using System.Net.Sockets;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// The media thread's batched sends (sendmmsg on Linux x64, one sendto each elsewhere): every queued datagram reaches
/// its own destination intact and in order once flushed, across more datagrams than one batch holds.
/// </summary>
public sealed class UdpSendBatchTests : IDisposable
{
    private readonly Socket _first = Sink();
    private readonly Socket _second = Sink();
    private readonly MediaCounters _counters = new();
    private readonly UdpMediaSocket _socket;

    public UdpSendBatchTests()
    {
        _socket = new UdpMediaSocket(new MediaListenAddress(IPAddress.Loopback, IPAddress.Loopback), 0, _counters, sendBatch: 16);
    }

    [Fact]
    public void Queued_datagrams_reach_each_destination_intact_and_in_order_after_a_flush()
    {
        var first = ((IPEndPoint)_first.LocalEndPoint!).Serialize();
        var second = ((IPEndPoint)_second.LocalEndPoint!).Serialize();
        for (var i = 0; i < 50; i++)
        {
            _socket.SendFromLoop(Datagram(i), i % 2 == 0 ? first : second);
        }

        _socket.FlushSends();

        Assert.Equal(50, _counters.DatagramsSent);
        Assert.Equal(0, _counters.SendErrors);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => 2 * i), ReceiveAll(_first, 25));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => 2 * i + 1), ReceiveAll(_second, 25));
        Assert.Equal(Enumerable.Range(0, 50).Sum(i => (long)Datagram(i).Length), _counters.BytesSent);
    }

    [Fact]
    public void A_full_batch_goes_out_without_waiting_for_the_flush()
    {
        var first = ((IPEndPoint)_first.LocalEndPoint!).Serialize();
        _socket.FlushSends(); // nothing queued: nothing sent
        Assert.Equal(0, _counters.DatagramsSent);
        for (var i = 0; i < 17; i++)
        {
            _socket.SendFromLoop(Datagram(i), first);
        }

        Assert.InRange(_counters.DatagramsSent, 16, 17); // 16 when batched (the 17th waits), 17 when each is sent alone
        _socket.FlushSends();
        Assert.Equal(17, _counters.DatagramsSent);
        Assert.Equal(Enumerable.Range(0, 17), ReceiveAll(_first, 17));
    }

    public void Dispose()
    {
        _socket.Dispose();
        _first.Dispose();
        _second.Dispose();
    }

    /// <summary>Datagram <paramref name="index"/>: its index in the first 4 bytes, then a length and pattern of its own.</summary>
    private static byte[] Datagram(int index)
    {
        var bytes = new byte[100 + index * 23];
        BitConverter.TryWriteBytes(bytes, index);
        for (var i = 4; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(index * 31 + i);
        }

        return bytes;
    }

    private static List<int> ReceiveAll(Socket sink, int expected)
    {
        var indices = new List<int>();
        var buffer = new byte[2048];
        while (sink.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead))
        {
            var length = sink.Receive(buffer);
            var index = BitConverter.ToInt32(buffer, 0);
            Assert.Equal(Datagram(index), buffer[..length]);
            indices.Add(index);
            if (indices.Count == expected)
            {
                break;
            }
        }

        return indices;
    }

    private static Socket Sink()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
