using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Webinar.TestSupport.Network;

namespace Webinar.TestSupport.Tests.Network;

public sealed class DelayForwarderTests
{
    private static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task A_udp_round_trip_takes_at_least_both_one_way_delays_and_replies_find_the_client()
    {
        using var echo = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(Loopback);
        _ = EchoAsync(echo);
        using var link = new UdpDelayForwarder(Loopback, (IPEndPoint)echo.LocalEndPoint!,
            new LinkProfile(TimeSpan.FromMilliseconds(30)), new LinkProfile(TimeSpan.FromMilliseconds(20)));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(Loopback);

        var rtts = new List<double>();
        var buffer = new byte[64];
        for (int i = 0; i < 5; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await client.SendToAsync(BitConverter.GetBytes(i), link.EndPoint);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var r = await client.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            rtts.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            Assert.Equal(i, BitConverter.ToInt32(buffer, 0));
            Assert.Equal(link.EndPoint, r.RemoteEndPoint); // replies come from where the client sent
        }
        Assert.All(rtts, rtt => Assert.True(rtt >= 49.5, $"a round trip of {rtt:F1} ms beat the link's 50 ms"));
    }

    [Fact]
    public async Task Loss_drops_about_the_configured_fraction_and_every_datagram_is_accounted_for()
    {
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(Loopback);
        sink.ReceiveBufferSize = 4 << 20;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var link = new UdpDelayForwarder(Loopback, (IPEndPoint)sink.LocalEndPoint!,
            new LinkProfile(TimeSpan.FromMilliseconds(5), LossRate: 0.1, Seed: 7), LinkProfile.Direct);
        const int sent = 2000;
        for (int i = 0; i < sent; i++)
        {
            client.SendTo(BitConverter.GetBytes(i), link.EndPoint);
            if (i % 50 == 49)
            {
                await Task.Delay(5); // stay under the sockets' buffers: only the emulator may lose
            }
        }

        var received = new List<int>();
        var buffer = new byte[64];
        while (received.Count + link.Dropped < sent)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var r = await sink.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            received.Add(BitConverter.ToInt32(buffer, 0));
        }

        Assert.Equal(sent, received.Count + link.Dropped);
        Assert.InRange(link.Dropped, 150, 250);
        Assert.Equal(received.OrderBy(x => x), received); // jitterless and lossy, still in order
    }

    [Fact]
    public async Task Jitter_varies_the_delay_but_never_reorders()
    {
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(Loopback);
        using var link = new UdpDelayForwarder(Loopback, (IPEndPoint)sink.LocalEndPoint!,
            new LinkProfile(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(15)), LinkProfile.Direct);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (int i = 0; i < 200; i++)
        {
            client.SendTo(BitConverter.GetBytes(i), link.EndPoint);
            await Task.Delay(1);
        }
        var buffer = new byte[64];
        for (int expected = 0; expected < 200; expected++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await sink.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            Assert.Equal(expected, BitConverter.ToInt32(buffer, 0));
        }
    }

    [Fact]
    public async Task Tcp_carries_the_stream_intact_with_the_delay_and_passes_the_close_on_after_the_data()
    {
        var server = new TcpListener(Loopback);
        server.Start();
        var accepted = server.AcceptSocketAsync();
        using var link = new TcpDelayForwarder(Loopback, (IPEndPoint)server.LocalEndpoint,
            new LinkProfile(TimeSpan.FromMilliseconds(40)), new LinkProfile(TimeSpan.FromMilliseconds(40)));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(link.EndPoint);
        using var peer = await accepted;

        var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => i.ToString("D6"))));
        var started = Stopwatch.GetTimestamp();
        await client.SendAsync(payload);
        client.Shutdown(SocketShutdown.Send);

        var got = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        bool first = true;
        while ((n = await peer.ReceiveAsync(buffer)) > 0)
        {
            if (first)
            {
                Assert.True(Stopwatch.GetElapsedTime(started).TotalMilliseconds >= 39.5, "data beat the link's delay");
            }

            first = false;
            got.Write(buffer, 0, n);
        }
        Assert.Equal(payload, got.ToArray());
        server.Stop();
    }

    [Theory]
    [InlineData(-1, 0, 0)]
    [InlineData(10, 11, 0)]
    [InlineData(10, 0, 1.5)]
    [InlineData(10, 0, -0.1)]
    public void A_profile_outside_the_rules_is_refused(int delayMs, int jitterMs, double loss)
    {
        var profile = new LinkProfile(TimeSpan.FromMilliseconds(delayMs), TimeSpan.FromMilliseconds(jitterMs), loss);
        Assert.Throws<ArgumentOutOfRangeException>(profile.Validate);
    }

    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[2048];
        try
        {
            while (true)
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                await socket.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint);
            }
        }
        catch (ObjectDisposedException) { }
        catch (SocketException) { }
    }
}
