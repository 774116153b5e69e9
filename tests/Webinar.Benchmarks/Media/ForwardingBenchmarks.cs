using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Relay;

namespace Webinar.Benchmarks.Media;

/// <summary>
/// The node's forwarding path for one incoming 1200-byte VP8 RTP packet, built from the real types: the publisher's
/// transport unprotects it once (SRTP, AEAD_AES_128_GCM) and hands it to its <see cref="Producer"/>, which fans it out
/// to N <see cref="Consumer"/>s; each rewrites SSRC/sequence/timestamp, payload type and extension ids, caches the
/// packet for NACKs, and its transport protects it with its own SRTP context and sends it through the node's media
/// socket to a loopback port that never reads (the kernel drops what overflows).
/// The transports are <see cref="RelayLink"/>s: the <see cref="MediaTransport"/> base whose SRTP is keyed up front,
/// so no ICE/DTLS is needed; a browser's transport runs the same receive and send code once connected.
/// The benchmark thread plays the media loop's thread (the loop is not started) and flushes the socket's send batch
/// after each incoming packet, as the loop does at the end of a receive burst: <see cref="SendBatch"/> 1 is one
/// sendto(2) per consumer, 64 one sendmmsg(2) per 64 consumers (Linux x64).
/// SRTP refuses replays, so each packet is freshly protected as the publisher would: <see cref="PublisherProtect"/>
/// is that part alone, and the node's cost per packet is <see cref="Forward"/> minus it.
/// </summary>
[MemoryDiagnoser]
public class ForwardingBenchmarks
{
    private const int PacketLength = 1200;
    private const uint PublisherSsrc = 0x1234_5678;
    private const SrtpProfile Profile = SrtpProfile.AeadAes128Gcm;

    private byte[] _plain = null!;
    private readonly byte[] _datagram = new byte[MediaLoop.MaxDatagram + 64];
    private readonly List<RelayLink> _links = [];
    private MediaWorker _node = null!;
    private Socket _discard = null!;
    private SrtpSession _publisher = null!;
    private RelayLink _inbound = null!;
    private ushort _sequence;
    private uint _timestamp;

    [Params(1, 10, 100)]
    public int Consumers { get; set; }

    [Params(1, 64)]
    public int SendBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _discard = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _discard.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var discardAt = (IPEndPoint)_discard.LocalEndPoint!;
        var settings = new MediaLoopSettings([new MediaListenAddress(IPAddress.Loopback, IPAddress.Loopback)], 0, TcpPort: null) { SendBatch = SendBatch };
        _node = new MediaWorker(settings, null, TimeProvider.System, NullLoggerFactory.Instance);

        var publisherKeys = RelayKeySet.Generate(Profile);
        _publisher = new SrtpSession(Profile, publisherKeys.Key, publisherKeys.Salt);
        _inbound = Link(discardAt, publisherKeys);
        var producer = new Producer("camera", MediaKind.Video, PublisherSsrc, new SourceCodec("VP8", 96, 90000, null, null),
            new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), _inbound, TimeProvider.System);
        _inbound.AddProducer(producer);

        // The publisher's ids (1: mid, 2: abs-send-time, 3: transport-wide seq) become the subscriber's 4, 2 and 5.
        var extensions = new RtpExtensionIdMap();
        extensions.Set(1, 4);
        extensions.Set(2, 2);
        extensions.Set(3, 5);
        for (var i = 0; i < Consumers; i++)
        {
            var link = Link(discardAt, RelayKeySet.Generate(Profile));
            link.AddConsumer(new Consumer(producer, link, i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                (uint)(0x4000_0000 + i), 100, extensions, TimeProvider.System, waitForKeyframe: true));
        }

        // The first packet is a keyframe so the consumers open their gate; then the cache fills (its pooled buffers
        // are taken on first use) before anything is measured.
        _plain = BuildPacket(keyframe: true);
        Forward();
        _plain = BuildPacket(keyframe: false);
        for (var i = 0; i < 1100; i++)
        {
            Forward();
        }

        if (_node.Counters.RtpForwarded < 1100L * Consumers)
        {
            throw new InvalidOperationException("the forwarding path did not forward during setup");
        }
    }

    private RelayLink Link(IPEndPoint to, RelayKeySet inbound) =>
        AddLink(new RelayLink(_node, Guid.NewGuid(), "discard", to, Profile, inbound, RelayKeySet.Generate(Profile), NoListener.Instance, new RelayOptions()));

    private RelayLink AddLink(RelayLink link)
    {
        _links.Add(link);
        return link;
    }

    private static byte[] BuildPacket(bool keyframe)
    {
        var packet = new byte[PacketLength];
        var writer = new RtpPacketWriter(packet, marker: false, payloadType: 96, sequenceNumber: 0, timestamp: 0, ssrc: PublisherSsrc);
        writer.SetExtension(1, "0"u8);
        writer.SetExtension(2, [0x12, 0x34, 0x56]);
        writer.SetExtension(3, [0x00, 0x01]);
        var payload = new byte[PacketLength - RtpPacket.FixedHeaderLength - 16]; // 9 bytes of elements, padded to 12, plus 4
        new Random(3).NextBytes(payload);
        payload[0] = 0x10; // VP8 descriptor: start of partition 0
        payload[1] = keyframe ? (byte)0x50 : (byte)0x51; // P bit: 0 for a keyframe
        payload[4] = 0x9D; // keyframe start code
        payload[5] = 0x01;
        payload[6] = 0x2A;
        if (!writer.TryComplete(payload, out var length) || length != PacketLength || KeyframeDetector.IsVp8Keyframe(payload) != keyframe)
        {
            throw new InvalidOperationException("packet layout changed");
        }

        return packet;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var link in _links)
        {
            link.Close("benchmark-over");
        }

        _publisher.Dispose();
        _node.Dispose();
        _discard.Dispose();
    }

    /// <summary>What the publisher does (not the node): the next packet, SRTP-protected.</summary>
    [Benchmark(Baseline = true)]
    public int PublisherProtect() => NextProtectedPacket();

    /// <summary>The next packet, then the node's whole path: unprotect once, then rewrite + protect + send per consumer.</summary>
    [Benchmark]
    public int Forward()
    {
        var length = NextProtectedPacket();
        _inbound.OnRtp(_datagram.AsSpan(0, length));
        _node.Loop.FlushSends();
        return length;
    }

    /// <summary>One 1216-byte datagram through the node's socket to the discard port: the send part of one consumer's cost.</summary>
    [Benchmark]
    public int SocketSendOnly()
    {
        _node.Loop.Send(_datagram.AsSpan(0, PacketLength + 16), _inbound.PeerAddress);
        return PacketLength;
    }

    private int NextProtectedPacket()
    {
        _plain.CopyTo(_datagram, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_datagram.AsSpan(2), ++_sequence);
        BinaryPrimitives.WriteUInt32BigEndian(_datagram.AsSpan(4), _timestamp += 3000);
        _publisher.ProtectRtp(_datagram, PacketLength, out var length);
        return length;
    }

    private sealed class NoListener : IRelayLinkListener
    {
        public static readonly NoListener Instance = new();

        public void OnLinkClosed(RelayLink link, string reason)
        {
        }
    }
}
