using System.Buffers.Binary;
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

    private readonly NodeMedia _node = new(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, TimeProvider.System, NullLoggerFactory.Instance);
    private readonly IceCredentials _browser = IceCredentials.Generate();
    private readonly WebRtcTransport _transport;
    private readonly IceControllingClient _ice;
    private readonly Socket _checker = Loopback();
    private readonly Socket _stranger = Loopback();
    private readonly IPEndPoint _nodeEndPoint;
    private readonly Random _random = new(7983);

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
        for (var i = 0; i < count; i++)
        {
            var datagram = NextHostile(validCheck, includeDtls);
            from.SendTo(datagram, _nodeEndPoint);
            if (i % 100 == 99)
            {
                Thread.Sleep(5); // let the loop drain; this is about robustness, not about the socket buffer
            }
        }
    }

    private byte[] NextHostile(byte[] validCheck, bool includeDtls)
    {
        var shape = _random.Next(includeDtls ? 7 : 6);
        if (shape == 0)
        {
            // A valid check with a few bytes flipped (often still carrying our USERNAME).
            var mutated = (byte[])validCheck.Clone();
            for (var flips = _random.Next(1, 4); flips > 0; flips--)
            {
                mutated[_random.Next(mutated.Length)] ^= (byte)_random.Next(1, 256);
            }

            return _random.Next(4) == 0 ? mutated[.._random.Next(mutated.Length)] : mutated;
        }

        var datagram = new byte[_random.Next(0, 1300)];
        _random.NextBytes(datagram);
        if (datagram.Length < 12)
        {
            return datagram;
        }

        switch (shape)
        {
            case 1: // STUN-like: right first byte and magic cookie, random body and attributes
                datagram[0] = (byte)_random.Next(0, 4);
                BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(4), 0x2112A442);
                BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), (ushort)_random.Next(0, datagram.Length));
                break;
            case 2: // RTP-like
                datagram[0] = (byte)(0x80 | _random.Next(0, 0x40));
                datagram[1] = (byte)_random.Next(0, 128);
                break;
            case 3: // RTCP-like
                datagram[0] = (byte)(0x80 | _random.Next(0, 0x20));
                datagram[1] = (byte)_random.Next(192, 224);
                break;
            case 4: // neither: first byte outside every RFC 7983 range
                datagram[0] = (byte)(_random.Next(2) == 0 ? _random.Next(64, 128) : _random.Next(192, 256));
                break;
            case 5: // STUN first byte without the cookie
                datagram[0] = (byte)_random.Next(0, 4);
                break;
            case 6: // DTLS-like record header
                datagram[0] = (byte)_random.Next(20, 64);
                datagram[1] = 0xFE;
                datagram[2] = 0xFD;
                break;
        }

        return datagram;
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
        public void OnTransportConnected(WebRtcTransport transport)
        {
        }

        public void OnTransportClosed(WebRtcTransport transport, string reason)
        {
        }

        public void OnConsumerClosed(WebRtcTransport transport, Consumer consumer)
        {
        }
    }
}
