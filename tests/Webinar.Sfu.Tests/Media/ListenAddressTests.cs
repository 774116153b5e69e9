using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Relay;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// The node's media sockets on the machine's real addresses (the default listen addresses): every announced
/// candidate answers an ICE check from exactly its own address and port, over UDP and over ICE-TCP (RFC 4571 framing);
/// bad TCP frames are skipped and counted; a valid nominating check from an address another transport or a relay
/// link owns never moves a transport there.
/// </summary>
public sealed class ListenAddressTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly MediaWorker _node = new(
        new MediaLoopSettings(MediaAddressResolver.MachineDefaults(), UdpPort: 0, TcpPort: 0),
        relayAddress: null, TimeProvider.System, NullLoggerFactory.Instance);

    private readonly List<IDisposable> _disposables = [];

    public ListenAddressTests() => _node.Start();

    [Fact]
    public void Default_addresses_are_every_address_of_the_machine_and_loopback_with_udp_above_tcp()
    {
        var candidates = _node.Candidates.All;
        Assert.Contains(candidates, c => c.Transport == "udp" && c.Address == "127.0.0.1");
        Assert.Contains(candidates, c => c.Transport == "tcp" && c.Address == "127.0.0.1" && c.Extensions == "tcptype passive");
        Assert.Equal(candidates.Count(c => c.Transport == "udp"), candidates.Count(c => c.Transport == "tcp"));
        Assert.True(candidates.Where(c => c.Transport == "udp").Min(c => c.Priority) > candidates.Where(c => c.Transport == "tcp").Max(c => c.Priority));
        if (candidates.Any(c => c.Address != "127.0.0.1"))
        {
            // A machine's real address comes first: it is what a stock browser (no loopback candidates) can use.
            Assert.NotEqual("127.0.0.1", _node.Candidates.DefaultAddress.ToString());
        }
    }

    [Fact]
    public void Every_udp_candidate_answers_a_check_from_exactly_its_own_address_and_port()
    {
        var (transport, browser) = NewTransport();
        foreach (var candidate in _node.Candidates.All.Where(c => c.Transport == "udp"))
        {
            var target = new IPEndPoint(IPAddress.Parse(candidate.Address), candidate.Port);
            using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
            var ice = Client(browser, transport);
            var check = new byte[200];
            var length = ice.WriteBindingRequest(check, nominate: true);
            socket.SendTo(check.AsSpan(0, length), SocketFlags.None, target);

            Assert.True(socket.Poll(Patience, SelectMode.SelectRead), $"no answer from {target}");
            var response = new byte[1500];
            EndPoint from = new IPEndPoint(target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            var received = socket.ReceiveFrom(response, ref from);
            Assert.Equal(target, from);
            Assert.Equal(IceCheckResult.Succeeded, ice.ProcessResponse(response.AsSpan(0, received)));
        }

        // The last nominated pair is the one media uses, from the socket of the address that check went to.
        var last = _node.Candidates.All.Last(c => c.Transport == "udp");
        var path = OnLoop(() => transport.SelectedPath);
        Assert.NotNull(path);
        Assert.False(path.IsTcp);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(last.Address), last.Port), ((UdpMediaSocket)path.Socket).LocalEndPoint);
    }

    [Fact]
    public void Every_tcp_candidate_answers_a_framed_check_on_the_same_connection_and_the_transport_selects_it()
    {
        var (transport, browser) = NewTransport();
        foreach (var candidate in _node.Candidates.All.Where(c => c.Transport == "tcp"))
        {
            var target = new IPEndPoint(IPAddress.Parse(candidate.Address), candidate.Port);
            // Kept open to the end: a pair's connection closing closes the transport that selected it.
            var tcp = new TcpClient(target.AddressFamily);
            _disposables.Add(tcp);
            tcp.Connect(target);
            var stream = tcp.GetStream();
            stream.ReadTimeout = (int)Patience.TotalMilliseconds;
            var ice = Client(browser, transport);
            var check = new byte[200];
            var length = ice.WriteBindingRequest(check, nominate: true);
            stream.Write(Frame(check.AsSpan(0, length)));

            var header = new byte[2];
            stream.ReadExactly(header);
            var response = new byte[BinaryPrimitives.ReadUInt16BigEndian(header)];
            stream.ReadExactly(response);
            Assert.Equal(IceCheckResult.Succeeded, ice.ProcessResponse(response));
            var path = OnLoop(() => transport.SelectedPath);
            Assert.NotNull(path);
            Assert.True(path.IsTcp);
        }
    }

    [Fact]
    public void Bad_tcp_frames_are_skipped_and_counted_and_the_stream_stays_in_step()
    {
        var (transport, browser) = NewTransport();
        var candidate = _node.Candidates.All.First(c => c.Transport == "tcp");
        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        tcp.Connect(IPAddress.Parse(candidate.Address), candidate.Port);
        var stream = tcp.GetStream();
        stream.ReadTimeout = (int)Patience.TotalMilliseconds;

        // An empty frame, an oversized one (its body skipped whole), then a valid check split across writes.
        stream.Write([0, 0]);
        var oversized = new byte[2 + IceTcpConnection.MaxFrame + 1];
        BinaryPrimitives.WriteUInt16BigEndian(oversized, (ushort)(IceTcpConnection.MaxFrame + 1));
        stream.Write(oversized);
        var ice = Client(browser, transport);
        var check = new byte[200];
        var framed = Frame(check.AsSpan(0, ice.WriteBindingRequest(check, nominate: true)));
        stream.Write(framed.AsSpan(0, 5));
        stream.Flush();
        Thread.Sleep(50);
        stream.Write(framed.AsSpan(5));

        var header = new byte[2];
        stream.ReadExactly(header);
        var response = new byte[BinaryPrimitives.ReadUInt16BigEndian(header)];
        stream.ReadExactly(response);
        Assert.Equal(IceCheckResult.Succeeded, ice.ProcessResponse(response));
        Assert.Equal(2, _node.Counters.Snapshot().TcpBadFrames);
    }

    [Fact]
    public void A_valid_nominating_check_from_an_address_another_transport_owns_never_moves_a_transport_there()
    {
        var (victim, victimBrowser) = NewTransport();
        var (attacker, attackerBrowser) = NewTransport();
        using var shared = UdpOn(IPAddress.Loopback);
        var node = new IPEndPoint(IPAddress.Loopback, _node.Candidates.All.First(c => c.Transport == "udp" && c.Address == "127.0.0.1").Port);

        // The victim's browser owns the shared address (its nominated pair).
        Assert.True(Check(shared, node, Client(victimBrowser, victim)), "the victim's own check was not answered");
        var victimPath = OnLoop(() => victim.SelectedPath);
        Assert.NotNull(victimPath);

        // The attacker's credentials are valid, but the address is the victim's: no answer, no move.
        Assert.False(Check(shared, node, Client(attackerBrowser, attacker)), "a check from another transport's address was answered");
        Assert.Null(OnLoop(() => attacker.SelectedPath));
        Assert.Same(victimPath, OnLoop(() => victim.SelectedPath));
    }

    [Fact]
    public void A_valid_nominating_check_from_a_relay_links_address_never_moves_a_transport_there()
    {
        var (transport, browser) = NewTransport();
        using var peer = UdpOn(IPAddress.Loopback);
        var node = new IPEndPoint(IPAddress.Loopback, _node.Candidates.All.First(c => c.Transport == "udp" && c.Address == "127.0.0.1").Port);
        const SrtpProfile profile = SrtpProfile.AeadAes128Gcm;
        OnLoop(() =>
        {
            var link = new RelayLink(_node, Guid.NewGuid(), "node-b", (IPEndPoint)peer.LocalEndPoint!, profile,
                RelayKeySet.Generate(profile), RelayKeySet.Generate(profile), new SilentLinkListener(), new RelayOptions());
            _node.Register(link, link.PeerAddress);
            return link;
        });

        Assert.False(Check(peer, node, Client(browser, transport)), "a check from a relay link's address was answered");
        Assert.Null(OnLoop(() => transport.SelectedPath));
        Assert.True(_node.Counters.Snapshot().SpoofedChecks > 0);
    }

    private (WebRtcTransport Transport, IceCredentials Browser) NewTransport()
    {
        var browser = IceCredentials.Generate();
        var transport = new WebRtcTransport(_node, DtlsFingerprint.Compute([1, 2, 3]), browser.Ufrag, new SilentTransportListener());
        _node.Register(transport);
        OnLoop(() => true);
        return (transport, browser);
    }

    private static IceControllingClient Client(IceCredentials browser, WebRtcTransport transport) =>
        new(browser, transport.LocalUfrag, transport.Ice.LocalCredentials.Password, TimeProvider.System);

    private Socket UdpOn(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    /// <summary>Sends one nominating check; true when a success response came back within a second.</summary>
    private static bool Check(Socket socket, IPEndPoint node, IceControllingClient ice)
    {
        var check = new byte[200];
        var length = ice.WriteBindingRequest(check, nominate: true);
        socket.SendTo(check.AsSpan(0, length), SocketFlags.None, node);
        var response = new byte[1500];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < deadline)
        {
            if (socket.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead)
                && ice.ProcessResponse(response.AsSpan(0, socket.Receive(response))) == IceCheckResult.Succeeded)
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Frame(ReadOnlySpan<byte> datagram)
    {
        var framed = new byte[2 + datagram.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)datagram.Length);
        datagram.CopyTo(framed.AsSpan(2));
        return framed;
    }

    private T OnLoop<T>(Func<T> action)
    {
        var task = _node.Loop.InvokeAsync(action);
        Assert.True(task.Wait(Patience), "the media loop did not run the action");
        return task.Result;
    }

    public void Dispose()
    {
        _node.Dispose();
        _disposables.ForEach(d => d.Dispose());
    }

    private sealed class SilentTransportListener : IWebRtcTransportListener
    {
        public void OnTransportClosed(WebRtcTransport transport, string reason)
        {
        }

        public void OnConsumerClosed(WebRtcTransport transport, Consumer consumer)
        {
        }
    }

    private sealed class SilentLinkListener : IRelayLinkListener
    {
        public void OnLinkClosed(RelayLink link, string reason)
        {
        }
    }
}
