using Microsoft.Extensions.Time.Testing;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Bandwidth;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media;

/// <summary>VP8 temporal layers (RFC 7741 TID): what a consumer forwards below the full frame rate, and how it gets back.</summary>
public sealed class TemporalLayerTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingProducerTransport _publisher = new();
    private readonly RecordingConsumerTransport _subscriber = new();

    /// <summary>A one-packet VP8 frame with PictureID, TL0PICIDX and TID (and Y when <paramref name="sync"/>).</summary>
    private static byte[] Frame(ushort seq, int pictureId, int tl0, int tid, bool keyframe = false, bool sync = false)
    {
        byte[] header = keyframe ? [0x50, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01] : [0x51, 0x02, 0x00, 0x33, 0x44];
        byte[] payload = [0x90, 0xE0, (byte)(0x80 | (pictureId >> 8)), (byte)pictureId, (byte)tl0, (byte)((tid << 6) | (sync ? 0x20 : 0)), .. header];
        var packet = Rtp(0x1111, seq, (uint)(seq * 3000), payload, payloadType: 96);
        packet[1] |= 0x80; // one packet per frame: the marker ends it
        return packet;
    }

    /// <summary>The usual three-layer pattern, TID 0 2 1 2 0 2 1 2 ..., from a keyframe at picture 100.</summary>
    private static readonly int[] Pattern = [0, 2, 1, 2];

    private List<(ushort Seq, int PictureId, int Tid)> Sent()
    {
        var sent = new List<(ushort, int, int)>();
        foreach (var packet in _subscriber.Sent)
        {
            var (_, seq, _, _, payload) = Read(packet);
            Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));
            sent.Add((seq, d.PictureId, d.TemporalLayer));
        }

        return sent;
    }

    [Fact]
    public void Capped_at_the_base_layer_a_viewer_gets_every_fourth_frame_with_consecutive_sequence_numbers_and_picture_ids()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        consumer.PreferredTemporalLayer = 0;

        for (var i = 0; i < 12; i++)
        {
            Publish(producer, Frame((ushort)(500 + i), 100 + i, 7 + (i / 4), Pattern[i % 4], keyframe: i == 0));
        }

        var sent = Sent();
        Assert.Equal(3, sent.Count);
        Assert.All(sent, s => Assert.Equal(0, s.Tid));
        for (var i = 1; i < sent.Count; i++)
        {
            Assert.Equal((ushort)(sent[i - 1].Seq + 1), sent[i].Seq);
            Assert.Equal(sent[i - 1].PictureId + 1, sent[i].PictureId);
        }

        Assert.Equal(9, consumer.TemporalDropped);
    }

    [Fact]
    public void Going_back_up_waits_for_a_layer_sync_frame_and_asks_for_a_keyframe_meanwhile()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        consumer.PreferredTemporalLayer = 0;
        Publish(producer, Frame(500, 100, 7, 0, keyframe: true));
        Publish(producer, Frame(501, 101, 7, 2));

        consumer.PreferredTemporalLayer = int.MaxValue;
        _publisher.RequestedSsrcs.Clear();
        Publish(producer, Frame(502, 102, 7, 1)); // depends on frames not sent: still dropped
        Assert.Equal(0, consumer.CurrentTemporalLayer);
        Assert.NotEmpty(_publisher.RequestedSsrcs);

        Publish(producer, Frame(503, 103, 7, 2, sync: true)); // references only the base layer: the switch point
        Publish(producer, Frame(504, 104, 8, 0));
        Publish(producer, Frame(505, 105, 8, 2));

        Assert.Equal(2, consumer.CurrentTemporalLayer);
        var sent = Sent();
        Assert.Equal([0, 2, 0, 2], sent.Select(s => s.Tid));
        Assert.Equal([100, 101, 102, 103], sent.Select(s => s.PictureId));
    }

    [Fact]
    public void A_keyframe_takes_the_viewer_straight_back_to_every_layer()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        consumer.AllocatedTemporalLayer = 0;
        Publish(producer, Frame(500, 100, 7, 0, keyframe: true));
        Publish(producer, Frame(501, 101, 7, 2));
        consumer.AllocatedTemporalLayer = int.MaxValue;
        Publish(producer, Frame(502, 102, 8, 0, keyframe: true));
        Publish(producer, Frame(503, 103, 8, 2));
        Publish(producer, Frame(504, 104, 8, 1));

        Assert.Equal([0, 0, 2, 1], Sent().Select(s => s.Tid));
    }

    [Fact]
    public void The_allocator_lowers_the_frame_rate_before_it_pauses_a_video_whose_lowest_layer_does_not_fit()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        var allocator = new SubscriberAllocator(new BandwidthOptions(), new NoListener());

        // One second of a 30 frame/s stream, 1,000-byte frames: TID 0 carries a quarter of it (60 kbit/s of 240).
        for (var i = 0; i < 30; i++)
        {
            var packet = Frame((ushort)(500 + i), 100 + i, 7 + (i / 4), Pattern[i % 4], keyframe: i == 0);
            Array.Resize(ref packet, 1000);
            Assert.True(RtpPacket.TryParse(packet, out var view));
            producer.OnRtp(packet, view, i * 33_000);
        }

        var now = 29 * 33_000L;
        var full = producer.Bitrate.BitsPerSecond(now);
        allocator.Allocate([consumer], full / 2 + new BandwidthOptions().AudioBitrate, now, lossSeen: true);
        Assert.False(consumer.IsVideoPaused);
        Assert.Equal(1, consumer.AllocatedTemporalLayer); // TID 0 and 1: half the frames

        allocator.Allocate([consumer], full / 3, now, lossSeen: true);
        Assert.Equal(0, consumer.AllocatedTemporalLayer);

        allocator.Allocate([consumer], full * 2, now, lossSeen: true);
        Assert.Equal(int.MaxValue, consumer.AllocatedTemporalLayer);
    }

    private sealed class NoListener : IAllocationListener;
}
