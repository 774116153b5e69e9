using Microsoft.Extensions.Time.Testing;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Relay;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// A simulcast producer on a primary's node crosses a relay link with every layer on its own SSRC; the replica's node
/// rebuilds a producer with the same layers and its own consumers pick layers for their subscribers.
/// </summary>
public sealed class RelaySimulcastTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly uint[] PublisherSsrcs = [0x1000, 0x2000, 0x3000];
    private static readonly string[] Rids = ["q", "h", "f"];

    private readonly FakeTimeProvider _clockA = new();
    private readonly FakeTimeProvider _clockB = new();
    private readonly MediaWorker _nodeA;
    private readonly MediaWorker _nodeB;
    private readonly RelayLink _linkA;
    private readonly RelayLink _linkB;

    public RelaySimulcastTests()
    {
        _nodeA = new MediaWorker(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, _clockA, NullLoggerFactory.Instance);
        _nodeB = new MediaWorker(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.Loopback, _clockB, NullLoggerFactory.Instance);
        _nodeA.Start();
        _nodeB.Start();
        const SrtpProfile profile = SrtpProfile.AeadAes128Gcm;
        var aToB = RelayKeySet.Generate(profile);
        var bToA = RelayKeySet.Generate(profile);
        var linkId = Guid.NewGuid();
        _linkA = OnLoop(_nodeA, () =>
        {
            var link = new RelayLink(_nodeA, linkId, "node-b", new IPEndPoint(IPAddress.Loopback, _nodeB.Port), profile, bToA, aToB, new RecordingLinkListener(), new RelayOptions());
            _nodeA.Register(link, link.PeerAddress);
            return link;
        });
        _linkB = OnLoop(_nodeB, () =>
        {
            var link = new RelayLink(_nodeB, linkId, "node-a", new IPEndPoint(IPAddress.Loopback, _nodeA.Port), profile, aToB, bToA, new RecordingLinkListener(), new RelayOptions());
            _nodeB.Register(link, link.PeerAddress);
            return link;
        });
    }

    private static T OnLoop<T>(MediaWorker node, Func<T> action)
    {
        var task = node.Loop.InvokeAsync(action);
        Assert.True(task.Wait(Patience), "the media loop did not run the action");
        return task.Result;
    }

    [Fact]
    public void Every_layer_crosses_on_its_own_ssrc_and_the_far_node_switches_layers_for_its_own_subscriber()
    {
        var layers = new ProducerLayer[3];
        for (var i = 0; i < 3; i++)
        {
            layers[i] = new ProducerLayer(i, Rids[i], 90000, _clockA);
            layers[i].Bind(PublisherSsrcs[i]);
        }

        var source = new Producer("camera", MediaKind.Video, 0, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"),
            new RecordingProducerTransport(), _clockA) { Layers = layers };
        var described = OnLoop(_nodeA, () => RelayStreamMapping.ToRelayed(source, RelayStreamMapping.EnsureConsumer(_linkA, source, _clockA)));
        Assert.NotNull(described.Layers);
        Assert.Equal(["q", "h", "f"], described.Layers!.Select(l => l.Rid));
        Assert.Equal(3, described.Layers.Select(l => l.RelaySsrc).Distinct().Count());
        Assert.Equal(described.RelaySsrc, described.Layers[0].RelaySsrc);
        Assert.Equal(3, OnLoop(_nodeA, () => source.Consumers.Length)); // EnsureConsumer again adds nothing
        OnLoop(_nodeA, () => RelayStreamMapping.EnsureConsumer(_linkA, source, _clockA));
        Assert.Equal(3, OnLoop(_nodeA, () => source.Consumers.Length));

        var subscriber = new RecordingConsumerTransport();
        var (relayed, consumer) = OnLoop(_nodeB, () =>
        {
            Assert.True(RelayStreamMapping.TryCreateProducer(Guid.NewGuid(), described, _linkB, _clockB, out var producer));
            _linkB.AddProducer(producer);
            var c = Consumer(producer, subscriber, _clockB, ssrc: 0xB0B0, payloadType: 100);
            c.Layers!.TargetLayer = 0;
            return (producer, c);
        });
        Assert.Equal(3, relayed.Layers.Count);

        // Each layer sends a keyframe whose last payload byte names the layer.
        OnLoop(_nodeA, () =>
        {
            for (var i = 0; i < 3; i++)
            {
                Publish(source, Rtp(PublisherSsrcs[i], 10, 3000, [.. Vp8Keyframe, (byte)(0xA0 + i)], payloadType: 96));
            }

            return true;
        });

        var deadline = DateTime.UtcNow + Patience;
        while (OnLoop(_nodeB, () => relayed.Layers.Count(l => l.Statistics.PacketsReceived > 0)) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "not every layer reached the far node");
            Thread.Sleep(10);
        }

        var sent = OnLoop(_nodeB, () => subscriber.Sent.Select(p => Read(p).Payload[^1]).ToArray());
        Assert.Equal([(byte)0xA0], sent);
        Assert.Equal(0, OnLoop(_nodeB, () => consumer.Layers!.CurrentLayer));
    }

    [Fact]
    public void A_relayed_description_with_bad_layers_makes_no_producer()
    {
        var good = new Webinar.Contracts.Relay.RelayedStream("s", Guid.NewGuid(), "p", "video", 7, "VP8", 96, 90000, null, null,
            new Dictionary<string, byte>());
        Webinar.Contracts.Relay.RelayedLayer[][] bad =
        [
            [new("q", 7)],                                   // one layer
            [new("q", 7), new("h", 7)],                      // repeated SSRC
            [new("q", 7), new("h", 0)],                      // SSRC 0
            [new("q", 8), new("h", 9)],                      // first is not RelaySsrc
            [new("q", 7), new("h!", 9)],                     // bad RID
            [new("a", 7), new("b", 8), new("c", 9), new("d", 10), new("e", 11)], // too many
        ];

        OnLoop(_nodeB, () =>
        {
            foreach (var layers in bad)
            {
                Assert.False(RelayStreamMapping.TryCreateProducer(Guid.NewGuid(), good with { Layers = layers }, _linkB, _clockB, out _));
            }

            Assert.True(RelayStreamMapping.TryCreateProducer(Guid.NewGuid(), good, _linkB, _clockB, out var single));
            Assert.False(single.IsSimulcast);
            return true;
        });
    }

    public void Dispose()
    {
        _nodeA.Dispose();
        _nodeB.Dispose();
    }

    private sealed class RecordingLinkListener : IRelayLinkListener
    {
        public void OnLinkClosed(RelayLink link, string reason)
        {
        }
    }
}
