using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Relay;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// The node's forwarding path allocates nothing per packet: one publisher's SRTP packet is unprotected once, fanned out
/// to 50 consumers, each rewriting it, caching it for NACKs, protecting it with its own SRTP context and sending it
/// through the node's UDP socket to a loopback port the test drains between rounds (the node's counters say what was sent):
/// the copies of one packet queue in the socket's send batch and go out together (sendmmsg on Linux x64) when the
/// test flushes, as the media loop does at the end of each receive burst.
/// The transports are relay links (SRTP keyed up front, the same receive and send code a browser's transport runs once
/// connected); the test thread plays the media thread, as the forwarding benchmark does.
/// </summary>
public sealed class ForwardingAllocationTests : IDisposable
{
    private const int Consumers = 50;
    private const int PacketLength = 1200;
    private const uint PublisherSsrc = 0x1234_5678;
    private const SrtpProfile Profile = SrtpProfile.AeadAes128Gcm;

    private readonly Socket _sink = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly MediaWorker _node;
    private readonly SrtpSession _publisher;
    private readonly RelayLink _inbound;
    private readonly List<RelayLink> _links = [];
    private readonly byte[] _plain = new byte[PacketLength];
    private readonly byte[] _datagram = new byte[MediaLoop.MaxDatagram + 64];
    private ushort _sequence;
    private uint _timestamp;
    private int _protectFailures;

    public ForwardingAllocationTests()
    {
        _sink.ReceiveBufferSize = 8 << 20;
        _sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var sinkAt = (IPEndPoint)_sink.LocalEndPoint!;
        _node = new MediaWorker(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, TimeProvider.System, NullLoggerFactory.Instance);
        var publisherKeys = RelayKeySet.Generate(Profile);
        _publisher = new SrtpSession(Profile, publisherKeys.Key, publisherKeys.Salt);
        _inbound = Link(sinkAt, publisherKeys);
        var producer = new Producer("camera", MediaKind.Video, PublisherSsrc, new SourceCodec("VP8", 96, 90000, null, null),
            new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), _inbound, TimeProvider.System);
        _inbound.AddProducer(producer);
        var extensions = new RtpExtensionIdMap();
        extensions.Set(1, 4);
        extensions.Set(3, 5);
        for (var i = 0; i < Consumers; i++)
        {
            var link = Link(sinkAt, RelayKeySet.Generate(Profile));
            link.AddConsumer(new Consumer(producer, link, i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                (uint)(0x4000_0000 + i), 100, extensions, TimeProvider.System, waitForKeyframe: false));
        }
    }

    [Fact]
    public void Forwarding_a_packet_to_fifty_consumers_allocates_nothing()
    {
        WritePacket();

        // Warm-up: every NACK-cache slot takes its pooled buffer on first use, and the JIT settles.
        long forwardedBefore = _node.Counters.RtpForwarded;
        long sentBefore = _node.Counters.DatagramsSent;
        for (var i = 0; i < 1200; i++)
        {
            ForwardOne();
            Drain();
        }

        // The fewest bytes any round of 500 packets allocated: the runtime itself now and then allocates a few dozen
        // bytes on this thread once (tiered compilation catching up on a loaded machine, with either send path), which
        // a per-packet allocation could not hide in every round (500 × at least 24 B).
        long allocated = long.MaxValue;
        for (var round = 0; round < 2; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 500; i++)
            {
                ForwardOne();
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Drain();
        }

        Assert.Equal(0, _protectFailures);
        Assert.Equal(0, allocated);
        Assert.Equal((1200L + 1000) * Consumers, _node.Counters.RtpForwarded - forwardedBefore);
        Assert.Equal((1200L + 1000) * Consumers, _node.Counters.DatagramsSent - sentBefore);
        Assert.Equal(0, _node.Counters.SendErrors);
    }

    public void Dispose()
    {
        foreach (var link in _links)
        {
            link.Close("test-over");
        }

        _publisher.Dispose();
        _node.Dispose();
        _sink.Dispose();
    }

    private RelayLink Link(IPEndPoint to, RelayKeySet inbound)
    {
        var link = new RelayLink(_node, Guid.NewGuid(), "sink", to, Profile, inbound, RelayKeySet.Generate(Profile), NoLinkListener.Instance, new RelayOptions());
        _links.Add(link);
        return link;
    }

    private void WritePacket()
    {
        var writer = new RtpPacketWriter(_plain, marker: false, payloadType: 96, sequenceNumber: 0, timestamp: 0, ssrc: PublisherSsrc);
        writer.SetExtension(1, "0"u8);
        writer.SetExtension(3, [0x00, 0x01]);
        var payload = new byte[PacketLength - RtpPacket.FixedHeaderLength - 12];
        payload[0] = 0x10;
        payload[1] = 0x51;
        Assert.True(writer.TryComplete(payload, out var length));
        Assert.Equal(PacketLength, length);
    }

    private void ForwardOne()
    {
        _plain.CopyTo(_datagram, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_datagram.AsSpan(2), ++_sequence);
        BinaryPrimitives.WriteUInt32BigEndian(_datagram.AsSpan(4), _timestamp += 3000);
        if (_publisher.ProtectRtp(_datagram, PacketLength, out var length) != SrtpResult.Ok)
        {
            _protectFailures++;
            return;
        }

        _inbound.OnRtp(_datagram.AsSpan(0, length));
        _node.Loop.FlushSends();
    }

    /// <summary>Empties the sink so the kernel never drops what the node sends.</summary>
    private void Drain()
    {
        Span<byte> buffer = stackalloc byte[2048];
        while (_sink.Available > 0)
        {
            _sink.Receive(buffer);
        }
    }

    private sealed class NoLinkListener : IRelayLinkListener
    {
        public static readonly NoLinkListener Instance = new();

        public void OnLinkClosed(RelayLink link, string reason)
        {
        }
    }
}
