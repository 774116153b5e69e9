using Microsoft.Extensions.Time.Testing;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media;

public sealed class SimulcastConsumerTests
{
    private static readonly uint[] LayerSsrcs = [0x1000, 0x2000, 0x3000];
    private static readonly string[] Rids = ["q", "h", "f"];

    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingProducerTransport _publisher = new();
    private readonly RecordingConsumerTransport _subscriber = new();
    private readonly ushort[] _seq = [100, 40000, 65500];
    private readonly uint[] _timestamp = [1000, 900_000_000, 4_294_000_000];
    private readonly int[] _pictureId = [10, 20000, 32760];
    private readonly int[] _tl0 = [5, 100, 250];

    private Producer SimulcastProducer()
    {
        var layers = new ProducerLayer[3];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = new ProducerLayer(i, Rids[i], 90000, _clock);
            layers[i].Bind(LayerSsrcs[i]);
        }

        return new Producer("video-1", MediaKind.Video, 0, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), _publisher, _clock)
        {
            Layers = layers,
        };
    }

    /// <summary>One frame of three packets on every layer, keyframes where asked; 33 ms apart.</summary>
    private void PublishFrame(Producer producer, bool keyframe)
    {
        for (var layer = 0; layer < 3; layer++)
        {
            for (var packet = 0; packet < 3; packet++)
            {
                var first = packet == 0;
                Publish(producer, Rtp(LayerSsrcs[layer], _seq[layer]++, _timestamp[layer],
                    Vp8Payload(first, first && keyframe, _pictureId[layer], _tl0[layer]), payloadType: 96));
            }

            _timestamp[layer] += 3000;
            _pictureId[layer] = (_pictureId[layer] + 1) & 0x7FFF;
            _tl0[layer] = (_tl0[layer] + 1) & 0xFF;
        }

        _clock.Advance(TimeSpan.FromMilliseconds(33));
    }

    /// <summary>X=1 with I (15-bit PictureID), L (TL0PICIDX) and T (TID 0), then the VP8 payload header.</summary>
    private static byte[] Vp8Payload(bool startOfFrame, bool keyframe, int pictureId, int tl0)
    {
        return
        [
            (byte)(0x80 | (startOfFrame ? 0x10 : 0)), 0xE0, (byte)(0x80 | (pictureId >> 8)), (byte)pictureId, (byte)tl0, 0x00,
            (byte)(keyframe ? 0x50 : 0x51), 0x01, 0x00, 0x9D, 0x01, 0x2A,
        ];
    }

    private static (ushort Seq, uint Timestamp, int PictureId, int Tl0, uint Ssrc) Describe(byte[] packet)
    {
        var read = Read(packet);
        Assert.True(Vp8PayloadDescriptor.TryParse(read.Payload, out var descriptor));
        return (read.Seq, read.Timestamp, descriptor.PictureId, descriptor.Tl0PicIdx, read.Ssrc);
    }

    [Fact]
    public void Sends_only_the_target_layer_starting_at_its_keyframe()
    {
        var producer = SimulcastProducer();
        var consumer = Consumer(producer, _subscriber, _clock, payloadType: 100);
        Assert.Equal(2, consumer.Layers!.TargetLayer);

        PublishFrame(producer, keyframe: false);
        Assert.Empty(_subscriber.Sent);
        Assert.Contains(LayerSsrcs[2], _publisher.RequestedSsrcs);

        PublishFrame(producer, keyframe: true);
        PublishFrame(producer, keyframe: false);

        Assert.Equal(6, _subscriber.Sent.Count);
        Assert.Equal(2, consumer.Layers.CurrentLayer);
        var pictureIds = _subscriber.Sent.Select(p => Describe(p).PictureId).Distinct().ToArray();
        Assert.Equal(2, pictureIds.Length);
    }

    [Fact]
    public void Switching_down_and_up_keeps_sequence_numbers_timestamps_and_picture_ids_continuous()
    {
        var producer = SimulcastProducer();
        var consumer = Consumer(producer, _subscriber, _clock, payloadType: 100);
        consumer.Layers!.TargetLayer = 2; // as an allocator would
        PublishFrame(producer, keyframe: true);
        PublishFrame(producer, keyframe: false);

        // Down to the low layer: nothing changes until its keyframe, which the consumer asks for on that SSRC.
        consumer.Layers!.TargetLayer = 0;
        _publisher.RequestedSsrcs.Clear();
        PublishFrame(producer, keyframe: false);
        Assert.Equal(2, consumer.Layers.CurrentLayer);
        Assert.Contains(LayerSsrcs[0], _publisher.RequestedSsrcs);
        Assert.DoesNotContain(LayerSsrcs[2], _publisher.RequestedSsrcs);
        PublishFrame(producer, keyframe: true);
        Assert.Equal(0, consumer.Layers.CurrentLayer);
        PublishFrame(producer, keyframe: false);

        // Back up to the middle layer.
        consumer.Layers.TargetLayer = 1;
        PublishFrame(producer, keyframe: false);
        PublishFrame(producer, keyframe: true);
        PublishFrame(producer, keyframe: false);
        Assert.Equal(1, consumer.Layers.CurrentLayer);
        Assert.Equal(3, consumer.Layers.Switches);

        Assert.Equal(9 * 3, _subscriber.Sent.Count); // frame 7 carries the low layer and then, from its keyframe, the middle one
        var previous = Describe(_subscriber.Sent[0]);
        for (var i = 1; i < _subscriber.Sent.Count; i++)
        {
            var packet = Describe(_subscriber.Sent[i]);
            Assert.Equal(previous.Ssrc, packet.Ssrc);
            Assert.Equal((ushort)(previous.Seq + 1), packet.Seq);
            var newFrame = i % 3 == 0;
            if (newFrame)
            {
                Assert.True((int)(packet.Timestamp - previous.Timestamp) > 0, $"timestamp did not advance at packet {i}");
                Assert.Equal((previous.PictureId + 1) & 0x7FFF, packet.PictureId);
                Assert.Equal((previous.Tl0 + 1) & 0xFF, packet.Tl0);
            }
            else
            {
                Assert.Equal(previous.Timestamp, packet.Timestamp);
                Assert.Equal(previous.PictureId, packet.PictureId);
            }

            previous = packet;
        }
    }

    [Fact]
    public void Paused_video_sends_nothing_and_resumes_at_a_keyframe()
    {
        var producer = SimulcastProducer();
        var consumer = Consumer(producer, _subscriber, _clock, payloadType: 100);
        PublishFrame(producer, keyframe: true);
        var before = _subscriber.Sent.Count;

        consumer.Layers!.TargetLayer = LayerSelector.NoLayer;
        PublishFrame(producer, keyframe: true);
        PublishFrame(producer, keyframe: false);
        Assert.Equal(before, _subscriber.Sent.Count);

        consumer.Layers.TargetLayer = 0;
        PublishFrame(producer, keyframe: false);
        Assert.Equal(before, _subscriber.Sent.Count);
        PublishFrame(producer, keyframe: true);
        Assert.Equal(before + 3, _subscriber.Sent.Count);
        var last = Describe(_subscriber.Sent[before - 1]);
        var resumed = Describe(_subscriber.Sent[before]);
        Assert.Equal((ushort)(last.Seq + 1), resumed.Seq);
        Assert.True((int)(resumed.Timestamp - last.Timestamp) > 0);
    }

    [Fact]
    public void Retransmission_resends_the_rewritten_packet_of_the_layer_that_was_sent()
    {
        var producer = SimulcastProducer();
        var consumer = Consumer(producer, _subscriber, _clock, payloadType: 100);
        PublishFrame(producer, keyframe: true);
        consumer.Layers!.TargetLayer = 0;
        PublishFrame(producer, keyframe: true);
        var lost = Describe(_subscriber.Sent[1]);

        var result = consumer.Retransmit([lost.Seq]);

        Assert.Equal(1, result.Sent);
        Assert.Equal(_subscriber.Sent[1], _subscriber.Sent[^1]);
    }

    [Fact]
    public void A_subscribers_keyframe_request_goes_to_the_layer_it_receives()
    {
        var producer = SimulcastProducer();
        var consumer = Consumer(producer, _subscriber, _clock, payloadType: 100);
        consumer.Layers!.TargetLayer = 1;
        PublishFrame(producer, keyframe: true);
        _publisher.RequestedSsrcs.Clear();

        consumer.OnKeyframeRequest();

        Assert.Equal([LayerSsrcs[1]], _publisher.RequestedSsrcs);
    }
}

public sealed class PaddingProbeTests
{
    private static byte[] WithMarker(byte[] packet)
    {
        packet[1] |= 0x80;
        return packet;
    }

    [Fact]
    public void A_padding_packet_takes_the_next_sequence_number_after_a_frame_and_media_continues_after_it()
    {
        var clock = new FakeTimeProvider();
        var subscriber = new RecordingConsumerTransport();
        var producer = Producer(MediaKind.Video, new RecordingProducerTransport(), clock);
        var consumer = Consumer(producer, subscriber, clock, payloadType: 100);
        Assert.False(consumer.TrySendPadding(200, 3)); // nothing sent yet: no sequence space

        Publish(producer, WithMarker(Rtp(0x1111, 10, 3000, Vp8Keyframe, payloadType: 96)));
        Assert.True(consumer.TrySendPadding(200, 3));
        Publish(producer, Rtp(0x1111, 11, 6000, Vp8Delta, payloadType: 96));

        Assert.Equal(3, subscriber.Sent.Count);
        var media = Read(subscriber.Sent[0]);
        Assert.True(RtpPacket.TryParse(subscriber.Sent[1], out var padding));
        Assert.True(padding.HasPadding);
        Assert.Equal(200, padding.PaddingLength);
        Assert.Equal(0, padding.Payload.Length);
        Assert.Equal(media.Ssrc, padding.Ssrc);
        Assert.Equal((ushort)(media.Seq + 1), padding.SequenceNumber);
        Assert.Equal(media.Timestamp, padding.Timestamp);
        Assert.True(padding.TryGetTransportSequenceNumber(3, out _));
        Assert.Equal((ushort)(media.Seq + 2), Read(subscriber.Sent[2]).Seq);
    }

    [Fact]
    public void Without_rtx_no_padding_goes_inside_a_frame_so_the_frames_packets_stay_contiguous()
    {
        // A receiver keeps padding out of its packet buffer: one inside a frame is a hole it never NACKs, and nothing
        // decodes until the next keyframe (what froze replica audiences every few seconds while the node probed).
        var clock = new FakeTimeProvider();
        var subscriber = new RecordingConsumerTransport();
        var producer = Producer(MediaKind.Video, new RecordingProducerTransport(), clock);
        var consumer = Consumer(producer, subscriber, clock, payloadType: 100);

        Publish(producer, Rtp(0x1111, 10, 3000, Vp8Keyframe, payloadType: 96)); // first packet of a frame, no marker
        Assert.False(consumer.TrySendPadding(200, 3));
        Publish(producer, WithMarker(Rtp(0x1111, 11, 3000, [0x00, 0x01], payloadType: 96))); // the frame's last packet
        Assert.True(consumer.TrySendPadding(200, 3));

        Assert.Equal(3, subscriber.Sent.Count);
        Assert.Equal((ushort)(Read(subscriber.Sent[0]).Seq + 1), Read(subscriber.Sent[1]).Seq);
        Assert.True(RtpPacket.TryParse(subscriber.Sent[2], out var padding));
        Assert.True(padding.HasPadding);
        Assert.Equal((ushort)(Read(subscriber.Sent[1]).Seq + 1), padding.SequenceNumber);
    }

    [Fact]
    public void With_rtx_padding_goes_on_the_rtx_stream_at_any_time_and_the_media_sequence_is_untouched()
    {
        var clock = new FakeTimeProvider();
        var subscriber = new RecordingConsumerTransport();
        var producer = Producer(MediaKind.Video, new RecordingProducerTransport(), clock);
        var consumer = new Consumer(producer, subscriber, "0", 0xC0C0, 100, new RtpExtensionIdMap(), clock, rtx: new ConsumerRtx(0xC1C1, 101));
        producer.Attach(consumer);

        Publish(producer, Rtp(0x1111, 10, 3000, Vp8Keyframe, payloadType: 96)); // mid-frame
        Assert.True(consumer.TrySendPadding(200, 3));
        Assert.True(consumer.TrySendPadding(200, 3));
        Publish(producer, WithMarker(Rtp(0x1111, 11, 3000, [0x00, 0x01], payloadType: 96)));

        Assert.Equal(4, subscriber.Sent.Count);
        Assert.True(RtpPacket.TryParse(subscriber.Sent[1], out var first));
        Assert.True(RtpPacket.TryParse(subscriber.Sent[2], out var second));
        Assert.Equal(0xC1C1u, first.Ssrc);
        Assert.Equal(101, first.PayloadType);
        Assert.True(first.HasPadding);
        Assert.Equal(0, first.Payload.Length);
        Assert.True(first.TryGetTransportSequenceNumber(3, out _));
        Assert.Equal((ushort)(first.SequenceNumber + 1), second.SequenceNumber);
        Assert.Equal(0xC0C0u, Read(subscriber.Sent[3]).Ssrc);
        Assert.Equal((ushort)(Read(subscriber.Sent[0]).Seq + 1), Read(subscriber.Sent[3]).Seq);
    }
}

public sealed class FollowHighestTests
{
    private static readonly uint[] Ssrcs = [0x10, 0x20, 0x30];
    private static readonly string[] Rids = ["q", "h", "f"];

    [Fact]
    public void Without_an_allocator_the_consumer_follows_the_highest_layer_the_publisher_sends()
    {
        var clock = new FakeTimeProvider();
        var publisher = new RecordingProducerTransport();
        var subscriber = new RecordingConsumerTransport();
        var layers = Enumerable.Range(0, 3).Select(i => new ProducerLayer(i, Rids[i], 90000, clock)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            layers[i].Bind(Ssrcs[i]);
        }

        var producer = new Producer("v", MediaKind.Video, 0, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "p"), publisher, clock) { Layers = layers };
        var consumer = Consumer(producer, subscriber, clock, payloadType: 100);
        ushort seq = 0;
        void Send(int layer, bool keyframe, long micros)
        {
            var packet = Rtp(Ssrcs[layer], seq++, (uint)(micros / 11), keyframe ? Vp8Keyframe : Vp8Delta, payloadType: 96);
            Assert.True(Webinar.Media.Rtp.RtpPacket.TryParse(packet, out var view));
            producer.OnRtp(packet, view, micros);
        }

        // The publisher sends only the two lower layers (its uplink dropped the top one): the consumer takes the middle.
        Send(0, keyframe: true, 0);
        Send(1, keyframe: true, 1_000);
        Assert.Equal(1, consumer.Layers!.CurrentLayer);
        Assert.True(consumer.Layers.FollowsHighest);

        // The top layer appears: the consumer asks for its keyframe and switches there.
        publisher.RequestedSsrcs.Clear();
        Send(2, keyframe: false, 2_000);
        Assert.Contains(Ssrcs[2], publisher.RequestedSsrcs);
        Send(2, keyframe: true, 3_000);
        Assert.Equal(2, consumer.Layers.CurrentLayer);

        // The top layer goes silent for two seconds while the middle one goes on: back to the middle at its keyframe.
        Send(1, keyframe: false, 2_100_000);
        Send(1, keyframe: true, 2_200_000);
        Assert.Equal(1, consumer.Layers.CurrentLayer);
    }
}
