using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Tests.Media;

/// <summary>The node's real UDP socket and media thread on loopback, fed hostile datagrams by a test socket.</summary>
public sealed class MediaLoopFuzzTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly MediaWorker _node = new(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, TimeProvider.System, NullLoggerFactory.Instance);
    private readonly IceCredentials _browser = IceCredentials.Generate();
    private readonly WebRtcTransport _transport;
    private readonly IceControllingClient _ice;
    private readonly Socket _checker = Loopback();
    private readonly Socket _stranger = Loopback();
    private readonly IPEndPoint _nodeEndPoint;
    private HostileDatagrams? _hostile;

    public MediaLoopFuzzTests()
    {
        _node.Start();
        _nodeEndPoint = new IPEndPoint(IPAddress.Loopback, _node.Port);
        _transport = new WebRtcTransport(_node, DtlsFingerprint.Compute([1, 2, 3]), _browser.Ufrag, new SilentTransportListener());
        _node.Register(_transport);
        _ice = new IceControllingClient(_browser, _transport.LocalUfrag, _transport.Ice.LocalCredentials.Password, TimeProvider.System);
    }

    private static Socket Loopback()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    [Fact]
    public void Hostile_datagrams_never_stop_the_loop_and_a_valid_ice_check_is_still_answered()
    {
        var validCheck = new byte[200];
        var checkLength = _ice.WriteBindingRequest(validCheck, nominate: false);
        Array.Resize(ref validCheck, checkLength);

        SendHostile(_stranger, 1500, validCheck, includeDtls: true);
        SendHostile(_checker, 1500, validCheck, includeDtls: true);

        Assert.True(CheckIsAnswered(nominate: true), "the node stopped answering ICE checks");
        var afterFirst = _node.Counters.Snapshot();
        Assert.True(afterFirst.Malformed > 0, "malformed datagrams were not counted");
        Assert.True(afterFirst.UnknownSource > 0, "datagrams from unknown sources were not counted");
        Assert.Equal(0, afterFirst.HandlerErrors);

        // Now the checker's address is bound to the transport: its RTP/RTCP-shaped garbage reaches the transport
        // itself (no SRTP keys yet), and a stranger's keeps counting as unknown.
        SendHostile(_checker, 1000, validCheck, includeDtls: false);
        SendHostile(_stranger, 1000, validCheck, includeDtls: true);

        Assert.True(CheckIsAnswered(nominate: false), "the node stopped answering ICE checks after the second wave");
        var afterSecond = _node.Counters.Snapshot();
        Assert.True(afterSecond.UnknownSource > afterFirst.UnknownSource);
        Assert.Equal(0, afterSecond.HandlerErrors);
        Assert.False(_transport.IsClosed);
    }

    /// <summary>Random datagrams of every shape RFC 7983 demultiplexes on, plus mutations of a valid check.</summary>
    private void SendHostile(Socket from, int count, byte[] validCheck, bool includeDtls)
    {
        _hostile ??= new HostileDatagrams(7983, validCheck);
        var buffer = new byte[1500];
        for (var i = 0; i < count; i++)
        {
            var length = _hostile.Next(buffer, includeDtls);
            from.SendTo(buffer.AsSpan(0, length), SocketFlags.None, _nodeEndPoint);
            if (i % 100 == 99)
            {
                Thread.Sleep(5); // let the loop drain; this is about robustness, not about the socket buffer
            }
        }
    }

    private bool CheckIsAnswered(bool nominate)
    {
        var check = new byte[200];
        var length = _ice.WriteBindingRequest(check, nominate);
        _checker.SendTo(check.AsSpan(0, length), SocketFlags.None, _nodeEndPoint);
        var response = new byte[1500];
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (!_checker.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead))
            {
                continue;
            }

            var received = _checker.Receive(response);
            if (_ice.ProcessResponse(response.AsSpan(0, received)) == IceCheckResult.Succeeded)
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _node.Loop.InvokeAsync(() =>
        {
            _transport.Close("test-over");
            return true;
        }).Wait(Patience);
        _node.Dispose();
        _checker.Dispose();
        _stranger.Dispose();
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
}
