using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Webinar.TestSupport.Network;

namespace Webinar.TestSupport.Tests.Network;

public sealed class UdpLinkEmulatorTests
{
    [Fact]
    public async Task Each_host_hears_the_other_from_its_announced_stand_in_after_the_link_delay_and_strangers_are_dropped()
    {
        using var a = Bound(IPAddress.Loopback);
        using var b = Bound(IPAddress.Loopback);
        var realA = (IPEndPoint)a.LocalEndPoint!;
        var realB = (IPEndPoint)b.LocalEndPoint!;
        var standInA = new IPEndPoint(IPAddress.Parse("127.0.0.2"), realA.Port);
        var standInB = new IPEndPoint(IPAddress.Parse("127.0.0.3"), realB.Port);
        using var link = new UdpLinkEmulator(realA, standInA, realB, standInB,
            new LinkProfile(TimeSpan.FromMilliseconds(30)), new LinkProfile(TimeSpan.FromMilliseconds(20)));

        var sent = Stopwatch.GetTimestamp();
        await a.SendToAsync(new byte[] { 1 }, standInB);
        var atB = await ReceiveAsync(b);
        var aToB = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        await b.SendToAsync(new byte[] { 2 }, standInA);
        var atA = await ReceiveAsync(a);

        Assert.Equal((1, standInA), (atB.Byte, atB.From));
        Assert.Equal((2, standInB), (atA.Byte, atA.From));
        Assert.True(aToB >= 29.5, $"A to B took {aToB:F1} ms, less than the link's 30 ms");

        using var stranger = Bound(IPAddress.Loopback);
        await stranger.SendToAsync(new byte[] { 3 }, standInB);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (link.FromStrangers == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the stranger's datagram was not counted");
            await Task.Delay(10);
        }

        Assert.Equal(2, link.Forwarded);
    }

    private static Socket Bound(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private static async Task<(byte Byte, IPEndPoint From)> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        return (buffer[0], (IPEndPoint)r.RemoteEndPoint);
    }
}
