using Microsoft.Extensions.Time.Testing;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;
using Webinar.Sfu.Relay;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// Two nodes on two loopback ports with a relay link each way. Each node runs on its own <see cref="FakeTimeProvider"/>,
/// so the silence timeout is driven by the test, not by waiting.
/// </summary>
public sealed class RelayLinkTests : IDisposable
{
    private const uint RelaySsrc = 0x5151_5151;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clockA = new();
    private readonly FakeTimeProvider _clockB = new();
    private readonly MediaWorker _nodeA;
    private readonly MediaWorker _nodeB;
    private readonly RecordingLinkListener _listenerA = new();
    private readonly RecordingLinkListener _listenerB = new();
    private readonly RelayLink _linkA;
    private readonly RelayLink _linkB;
    private readonly Producer _source;
    private readonly Producer _relayed;
    private readonly RecordingConsumerTransport _subscriberB = new();

    public RelayLinkTests()
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
            var link = new RelayLink(_nodeA, linkId, "node-b", new IPEndPoint(IPAddress.Loopback, _nodeB.Port), profile, bToA, aToB, _listenerA, new RelayOptions());
            _nodeA.Register(link, link.PeerAddress);
            return link;
        });
        _linkB = OnLoop(_nodeB, () =>
        {
            var link = new RelayLink(_nodeB, linkId, "node-a", new IPEndPoint(IPAddress.Loopback, _nodeA.Port), profile, aToB, bToA, _listenerB, new RelayOptions());
            _nodeB.Register(link, link.PeerAddress);
            return link;
        });

        // Node A: the primary's camera, carried to node B by one relay consumer.
        _source = Producer(MediaKind.Video, new RecordingProducerTransport(), _clockA);
        OnLoop(_nodeA, () =>
        {
            _linkA.AddConsumer(new Consumer(_source, _linkA, "relay", RelaySsrc, 96, new RtpExtensionIdMap(), _clockA, waitForKeyframe: false));
            return true;
        });

        // Node B: the same stream as a producer on the link, with one local subscriber.
        _relayed = new Producer("camera", MediaKind.Video, RelaySsrc, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), _linkB, _clockB);
        OnLoop(_nodeB, () =>
        {
            _linkB.AddProducer(_relayed);
            _ = Consumer(_relayed, _subscriberB, _clockB, ssrc: 0xB0B0, payloadType: 100, waitForKeyframe: false);
            return true;
        });
    }

    private static T OnLoop<T>(MediaWorker node, Func<T> action)
    {
        var task = node.Loop.InvokeAsync(action);
        Assert.True(task.Wait(Patience), "the media loop did not run the action");
        return task.Result;
    }

    /// <summary>Returns once the loop has run a full iteration (timers included) after this call.</summary>
    private static void Settle(MediaWorker node)
    {
        OnLoop(node, () => true);
        OnLoop(node, () => true);
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            Thread.Sleep(10);
        }
    }

    private int ReceivedOnB() => OnLoop(_nodeB, () => _subscriberB.Sent.Count);

    [Fact]
    public void A_packet_forwarded_on_one_node_arrives_decrypted_at_the_producer_on_the_other()
    {
        byte[] payload = [.. Vp8Delta, 0x01, 0x02, 0x03];
        OnLoop(_nodeA, () =>
        {
            Publish(_source, Rtp(0x1111, 4242, 90_000, payload, payloadType: 96));
            return true;
        });

        WaitUntil(() => ReceivedOnB() == 1, "the relayed packet never reached node B's subscriber");
        var received = OnLoop(_nodeB, () => Read(_subscriberB.Sent[0]));
        Assert.Equal(payload, received.Payload);
        Assert.Equal(0xB0B0u, received.Ssrc);
        Assert.Equal(1u, OnLoop(_nodeB, () => _relayed.Statistics.PacketsReceived));
        Assert.Equal(0, _nodeB.Counters.Snapshot().SrtpRejected);
    }

    [Fact]
    public void A_held_promoted_stream_reaches_nobody_and_is_counted_until_released_and_then_asks_for_a_keyframe_at_once()
    {
        // Node B is the primary's node: the stream was promoted in over the link but its promotion is not admitted yet.
        var publisher = (RecordingProducerTransport)_source.Transport;
        OnLoop(_nodeB, () =>
        {
            _relayed.Hold();
            return true;
        });
        OnLoop(_nodeA, () =>
        {
            for (ushort i = 0; i < 5; i++)
            {
                Publish(_source, Rtp(0x1111, (ushort)(100 + i), 90_000, Vp8Delta, payloadType: 96));
            }

            return true;
        });

        WaitUntil(() => _nodeB.Counters.Snapshot().RtpNotAdmitted == 5, "the held stream's packets were not dropped and counted");
        Assert.Equal(0, ReceivedOnB());
        Assert.Equal(0u, OnLoop(_nodeB, () => _relayed.Statistics.PacketsReceived));
        var keyframeRequests = OnLoop(_nodeA, () => publisher.KeyframeRequests);

        // Admitted: the next packet flows, and the keyframe the speaker's node asked for (dropped meanwhile) is asked again.
        OnLoop(_nodeB, () =>
        {
            _relayed.Release();
            return true;
        });
        OnLoop(_nodeA, () =>
        {
            Publish(_source, Rtp(0x1111, 105, 93_000, Vp8Delta, payloadType: 96));
            return true;
        });

        WaitUntil(() => ReceivedOnB() == 1, "the released stream did not reach node B's subscriber");
        WaitUntil(() => OnLoop(_nodeA, () => publisher.KeyframeRequests) > keyframeRequests, "no keyframe request crossed the link after the release");
        Assert.Equal(5, _nodeB.Counters.Snapshot().RtpNotAdmitted);
    }

    [Fact]
    public void Rtp_shaped_datagrams_from_a_stranger_or_forged_from_the_peers_address_are_dropped()
    {
        // A third socket sends a well-formed (plain) RTP packet on the relayed SSRC.
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var forged = Rtp(RelaySsrc, 1, 0, [.. Vp8Keyframe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], payloadType: 96);
        stranger.SendTo(forged, new IPEndPoint(IPAddress.Loopback, _nodeB.Port));
        WaitUntil(() => _nodeB.Counters.Snapshot().UnknownSource >= 1, "the stranger's datagram was not counted as unknown");

        // The same bytes sent from node A's own socket: right address, no valid SRTP tag.
        OnLoop(_nodeA, () =>
        {
            _nodeA.Loop.Send(forged, _linkA.PeerAddress);
            return true;
        });
        WaitUntil(() => _nodeB.Counters.Snapshot().SrtpRejected == 1, "the forged packet was not rejected by SRTP");

        Assert.Equal(0, ReceivedOnB());
        Assert.Equal(0u, OnLoop(_nodeB, () => _relayed.Statistics.PacketsReceived));

        // The link still carries genuine media afterwards.
        OnLoop(_nodeA, () =>
        {
            Publish(_source, Rtp(0x1111, 7, 0, Vp8Delta, payloadType: 96));
            return true;
        });
        WaitUntil(() => ReceivedOnB() == 1, "the link stopped carrying media after the forgeries");
    }

    [Fact]
    public void Authentic_rtp_on_ssrcs_the_peer_never_negotiated_is_dropped_and_counted_before_any_srtp_work()
    {
        // Node A sends the same stream on 64 more SSRCs that node B has no producer for, properly protected.
        OnLoop(_nodeA, () =>
        {
            for (uint i = 0; i < 64; i++)
            {
                _linkA.AddConsumer(new Consumer(_source, _linkA, "extra", 0x7000_0000 + i, 96, new RtpExtensionIdMap(), _clockA, waitForKeyframe: false));
            }

            Publish(_source, Rtp(0x1111, 4242, 90_000, Vp8Delta, payloadType: 96));
            return true;
        });

        WaitUntil(() => _nodeB.Counters.Snapshot().UnknownSsrc == 64, "RTP on unnegotiated SSRCs was not dropped and counted");
        WaitUntil(() => ReceivedOnB() == 1, "the negotiated stream stopped");
        var counters = _nodeB.Counters.Snapshot();
        Assert.Equal(0, counters.SrtpRejected);
        Assert.Equal(1, counters.RtpReceived);
    }

    [Fact]
    public void The_link_stays_open_while_the_peer_is_heard_and_closes_itself_after_the_silence_timeout()
    {
        // Both clocks advance a second at a time; each step node B's keepalive reaches node A before A's clock moves.
        for (var second = 0; second < 10; second++)
        {
            var heard = _nodeA.Counters.Snapshot().RtcpReceived;
            _clockB.Advance(TimeSpan.FromSeconds(1));
            Settle(_nodeB);
            WaitUntil(() => _nodeA.Counters.Snapshot().RtcpReceived > heard, "node B's keepalive never reached node A");
            _clockA.Advance(TimeSpan.FromSeconds(1));
            Settle(_nodeA);
        }

        Assert.False(_linkA.IsClosed, "the link closed although the peer kept talking");

        // Node B falls silent (its clock stops, so it sends nothing more); node A's clock runs on.
        _clockA.Advance(new RelayOptions().LinkSilenceTimeout - TimeSpan.FromSeconds(1));
        Settle(_nodeA);
        Assert.False(_linkA.IsClosed, "the link closed before the silence timeout");

        _clockA.Advance(TimeSpan.FromSeconds(2));
        Settle(_nodeA);

        Assert.True(_linkA.IsClosed);
        var closed = Assert.Single(_listenerA.Closed);
        Assert.Equal("relay-peer-silent", closed);
        Assert.True(OnLoop(_nodeA, () => _source.Consumers.Length) == 0, "the closed link's consumer still hangs on the producer");
    }

    public void Dispose()
    {
        _nodeA.Dispose();
        _nodeB.Dispose();
    }

    private sealed class RecordingLinkListener : IRelayLinkListener
    {
        public ConcurrentQueue<string> Closed { get; } = new();

        public void OnLinkClosed(RelayLink link, string reason) => Closed.Enqueue(reason);
    }
}
