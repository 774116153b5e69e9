using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Relay;

namespace Webinar.Benchmarks.Media;

/// <summary>
/// What a simulcast subscriber costs the node against a single-layer one, with the real types (as
/// <see cref="ForwardingBenchmarks"/>): 10 consumers of one producer, each on its own <see cref="RelayLink"/>. With
/// <see cref="Simulcast"/> the producer has three layers and every consumer sends the top one: a top-layer packet is
/// rewritten (SSRC/sequence/timestamp and the VP8 PictureID/TL0PICIDX) and sent by all ten
/// (<see cref="ForwardSent"/>), and a packet of another layer is dropped by all ten (<see cref="ForwardOtherLayer"/>;
/// without simulcast it is an ordinary forwarded packet again). Every packet carries a Chromium-like VP8 descriptor
/// (15-bit PictureID, TL0PICIDX, TID).
/// </summary>
[MemoryDiagnoser]
public class SimulcastForwardingBenchmarks
{
    private const int PacketLength = 1200;
    private const int Consumers = 10;
    private const SrtpProfile Profile = SrtpProfile.AeadAes128Gcm;
    private static readonly uint[] LayerSsrcs = [0x1000_0001, 0x1000_0002, 0x1000_0003];

    private readonly byte[] _datagram = new byte[MediaLoop.MaxDatagram + 64];
    private readonly List<RelayLink> _links = [];
    private readonly ushort[] _sequence = new ushort[3];
    private readonly uint[] _timestamp = new uint[3];
    private readonly int[] _pictureId = new int[3];
    private MediaWorker _node = null!;
    private Socket _discard = null!;
    private SrtpSession _publisher = null!;
    private RelayLink _inbound = null!;

    [Params(false, true)]
    public bool Simulcast { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _discard = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _discard.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var discardAt = (IPEndPoint)_discard.LocalEndPoint!;
        _node = new MediaWorker(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, TimeProvider.System, NullLoggerFactory.Instance);
        var publisherKeys = RelayKeySet.Generate(Profile);
        _publisher = new SrtpSession(Profile, publisherKeys.Key, publisherKeys.Salt);
        _inbound = Link(discardAt, publisherKeys);

        IReadOnlyList<ProducerLayer> layers = [];
        if (Simulcast)
        {
            var made = new ProducerLayer[3];
            for (var i = 0; i < 3; i++)
            {
                made[i] = new ProducerLayer(i, "r" + i, 90000, TimeProvider.System);
                made[i].Bind(LayerSsrcs[i]);
            }

            layers = made;
        }

        var producer = new Producer("camera", MediaKind.Video, Simulcast ? 0 : LayerSsrcs[2], new SourceCodec("VP8", 96, 90000, null, null),
            new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), _inbound, TimeProvider.System) { Layers = layers };
        _inbound.AddProducer(producer);
        for (var i = 0; i < Consumers; i++)
        {
            var link = Link(discardAt, RelayKeySet.Generate(Profile));
            link.AddConsumer(new Consumer(producer, link, "0", (uint)(0x4000_0000 + i), 100, new RtpExtensionIdMap(), TimeProvider.System));
        }

        // Keyframes on every layer start the consumers on the top one; then the NACK caches fill before measuring.
        for (var layer = 0; layer < 3; layer++)
        {
            Send(layer, keyframe: true);
        }

        for (var i = 0; i < 1100; i++)
        {
            ForwardSent();
        }

        if (_node.Counters.RtpForwarded < 1100L * Consumers)
        {
            throw new InvalidOperationException("the forwarding path did not forward during setup");
        }
    }

    private RelayLink Link(IPEndPoint to, RelayKeySet inbound)
    {
        var link = new RelayLink(_node, Guid.NewGuid(), "discard", to, Profile, inbound, RelayKeySet.Generate(Profile), NoListener.Instance, new RelayOptions());
        _links.Add(link);
        return link;
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

    /// <summary>The publisher's part alone (not the node): the next packet, SRTP-protected.</summary>
    [Benchmark(Baseline = true)]
    public int PublisherProtect() => Protect(2, keyframe: false);

    /// <summary>A packet of the layer every consumer sends: unprotect once, then per consumer decide, rewrite, protect, send.</summary>
    [Benchmark]
    public int ForwardSent() => Send(2, keyframe: false);

    /// <summary>A packet of a layer no consumer sends (simulcast): unprotect once, then every consumer drops it.</summary>
    [Benchmark]
    public int ForwardOtherLayer() => Send(Simulcast ? 0 : 2, keyframe: false);

    private int Send(int layer, bool keyframe)
    {
        var length = Protect(layer, keyframe);
        _inbound.OnRtp(_datagram.AsSpan(0, length));
        return length;
    }

    private int Protect(int layer, bool keyframe)
    {
        var ssrc = Simulcast ? LayerSsrcs[layer] : LayerSsrcs[2];
        var writer = new RtpPacketWriter(_datagram, marker: false, payloadType: 96, sequenceNumber: ++_sequence[layer],
            timestamp: _timestamp[layer] += 3000, ssrc: ssrc);
        Span<byte> payload = stackalloc byte[PacketLength - RtpPacket.FixedHeaderLength];
        payload.Fill(0x5A);
        var pictureId = _pictureId[layer] = (_pictureId[layer] + 1) & 0x7FFF;
        payload[0] = 0x90; // X, S, PID 0
        payload[1] = 0xE0; // I, L, T
        BinaryPrimitives.WriteUInt16BigEndian(payload[2..], (ushort)(0x8000 | pictureId));
        payload[4] = (byte)pictureId;
        payload[5] = 0x00;
        payload[6] = keyframe ? (byte)0x50 : (byte)0x51;
        writer.TryComplete(payload, out var plainLength);
        _publisher.ProtectRtp(_datagram, plainLength, out var length);
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
