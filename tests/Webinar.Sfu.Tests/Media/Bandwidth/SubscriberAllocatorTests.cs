using Microsoft.Extensions.Time.Testing;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Bandwidth;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media.Bandwidth;

public sealed class SubscriberAllocatorTests : IAllocationListener
{
    private static readonly long[] LayerRates = [150_000, 500_000, 1_500_000];
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingProducerTransport _publisher = new();
    private readonly RecordingConsumerTransport _subscriber = new();
    private readonly List<string> _events = [];

    void IAllocationListener.OnVideoPaused(Consumer consumer) => _events.Add("paused:" + consumer.Producer.StreamId);

    void IAllocationListener.OnVideoResumed(Consumer consumer) => _events.Add("resumed:" + consumer.Producer.StreamId);

    /// <summary>A three-layer producer whose layers have carried their nominal bitrates for the last second.</summary>
    private Producer SimulcastProducer(string streamId, int activeLayers = 3)
    {
        var layers = new ProducerLayer[3];
        for (var i = 0; i < 3; i++)
        {
            layers[i] = new ProducerLayer(i, "r" + i, 90000, _clock);
            layers[i].Bind((uint)(0x100 + i));
        }

        var producer = new Producer(streamId, MediaKind.Video, 0, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "p"), _publisher, _clock)
        {
            Layers = layers,
        };
        for (var ms = 0; ms < 1000; ms += 10)
        {
            for (var i = 0; i < activeLayers; i++)
            {
                var bytes = (int)(LayerRates[i] / 8 / 100);
                var packet = Rtp((uint)(0x100 + i), (ushort)ms, 0, new byte[bytes - RtpPacket.FixedHeaderLength], 96);
                Assert.True(RtpPacket.TryParse(packet, out var view));
                layers[i].OnPacket(view, Now + (ms * 1000L));
            }
        }

        return producer;
    }

    /// <summary>A single-stream video producer.</summary>
    private Producer SingleStreamProducer(string streamId) =>
        new(streamId, MediaKind.Video, 0x200, Vp8, new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "p"), _publisher, _clock);

    /// <summary>The producer carries <paramref name="bitrate"/> for a second, starting with a keyframe, to its consumers.</summary>
    private static void Carry(Producer producer, long bitrate)
    {
        var bytes = (int)(bitrate / 8 / 200); // a packet every 5 ms, each below the MTU
        for (var ms = 0; ms < 1000; ms += 5)
        {
            var payload = new byte[bytes - RtpPacket.FixedHeaderLength];
            (ms == 0 ? Vp8Keyframe : Vp8Delta).CopyTo(payload, 0);
            var packet = Rtp(0x200, (ushort)ms, (uint)ms * 90, payload, 96);
            Assert.True(RtpPacket.TryParse(packet, out var view));
            producer.OnRtp(packet, view, Now + (ms * 1000L));
        }
    }

    /// <summary>The consumer has sent its top layer (a keyframe), as it does once media flows.</summary>
    private static void HasSentTopLayer(Consumer video)
    {
        var packet = Rtp(0x102, 1, 0, Vp8Keyframe, 96);
        video.Forward(packet, keyframe: true, layer: 2);
        Assert.True(video.HasSent);
    }

    private const long Now = 10_000_000;

    private static long At => Now + 999_000;

    private SubscriberAllocator Allocator() => new(new BandwidthOptions(), this);

    /// <summary>An allocator that pauses as soon as it has the evidence (no dwell), for the tests about what happens then.</summary>
    private SubscriberAllocator EagerAllocator() => new(new BandwidthOptions { PauseAfter = TimeSpan.Zero }, this);

    [Theory]
    [InlineData(5_000_000, 2)]
    [InlineData(1_200_000, 1)]
    [InlineData(400_000, 0)]
    public void Picks_the_highest_layer_the_estimate_carries_after_audio(long estimate, int expected)
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);
        var audio = Consumer(Producer(MediaKind.Audio, _publisher, _clock), _subscriber, _clock);

        Allocator().Allocate([audio, video], estimate, At);

        Assert.Equal(expected, video.Layers!.TargetLayer);
        Assert.False(video.IsVideoPaused);
        Assert.Empty(_events);
    }

    [Fact]
    public void Below_the_lowest_layer_video_pauses_and_resumes_when_the_estimate_recovers()
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);
        var audio = Consumer(Producer(MediaKind.Audio, _publisher, _clock), _subscriber, _clock);
        HasSentTopLayer(video);
        var allocator = EagerAllocator();

        allocator.Allocate([audio, video], 60_000, At);
        Assert.True(video.IsVideoPaused);
        Assert.Equal(LayerSelector.NoLayer, video.Layers!.TargetLayer);
        allocator.Allocate([audio, video], 60_000, At);
        Assert.Equal(["paused:v"], _events);

        allocator.Allocate([audio, video], 3_000_000, At);
        Assert.False(video.IsVideoPaused);
        Assert.Equal(2, video.Layers.TargetLayer);
        Assert.Equal(["paused:v", "resumed:v"], _events);
        Assert.Contains(0x102u, _publisher.RequestedSsrcs);
    }

    [Fact]
    public void The_preferred_layer_caps_the_choice()
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);
        video.PreferredSpatialLayer = 0;

        Allocator().Allocate([video], 10_000_000, At);

        Assert.Equal(0, video.Layers!.TargetLayer);
    }

    [Fact]
    public void Layers_the_publisher_stopped_sending_are_not_chosen()
    {
        var video = Consumer(SimulcastProducer("v", activeLayers: 2), _subscriber, _clock);

        Allocator().Allocate([video], 10_000_000, At);

        Assert.Equal(1, video.Layers!.TargetLayer);
    }

    [Fact]
    public void The_priority_stream_is_served_first()
    {
        var camera = Consumer(SimulcastProducer("camera"), _subscriber, _clock, ssrc: 1);
        var screen = Consumer(SimulcastProducer("screen"), _subscriber, _clock, ssrc: 2);
        screen.Priority = 1;

        Allocator().Allocate([camera, screen], 2_000_000, At);

        Assert.Equal(2, screen.Layers!.TargetLayer);
        Assert.Equal(0, camera.Layers!.TargetLayer);
    }

    [Fact]
    public void Desired_is_what_the_preferred_layers_need_so_a_probe_can_aim_at_it()
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);
        var allocator = Allocator();

        allocator.Allocate([video], 400_000, At);

        Assert.InRange(allocator.Desired, 1_500_000, 1_800_000);
        Assert.InRange(allocator.Allocated, 100_000, 200_000);
    }

    [Fact]
    public void A_single_stream_video_above_the_initial_guess_plays_until_feedback_shows_heavy_loss()
    {
        var producer = SingleStreamProducer("v");
        var video = Consumer(producer, _subscriber, _clock);
        Carry(producer, 1_500_000);
        Assert.True(video.HasSent);
        var allocator = EagerAllocator();

        allocator.Allocate([video], new BandwidthOptions().InitialBitrate, At, lossSeen: false);
        Assert.False(video.IsVideoPaused);
        Assert.Empty(_events);

        allocator.Allocate([video], 600_000, At, lossSeen: true);
        Assert.True(video.IsVideoPaused);
        Assert.Equal(["paused:v"], _events);
    }

    [Fact]
    public void A_video_is_paused_only_after_nothing_fitted_for_the_pause_delay_without_a_break()
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);
        HasSentTopLayer(video);
        var allocator = new SubscriberAllocator(new BandwidthOptions { PauseAfter = TimeSpan.FromMilliseconds(400) }, this);
        var start = Now + 300_000;

        allocator.Allocate([video], 60_000, start);
        allocator.Allocate([video], 60_000, start + 250_000);
        Assert.False(video.IsVideoPaused);
        Assert.Equal(0, video.Layers!.TargetLayer); // the lowest layer meanwhile

        allocator.Allocate([video], 3_000_000, start + 300_000); // a break: it fitted again
        allocator.Allocate([video], 60_000, start + 350_000);
        allocator.Allocate([video], 60_000, start + 700_000);
        Assert.False(video.IsVideoPaused);

        allocator.Allocate([video], 60_000, start + 750_000);
        Assert.True(video.IsVideoPaused);
        Assert.Equal(["paused:v"], _events);
    }

    [Fact]
    public void A_video_that_never_sent_is_not_paused_but_gets_its_lowest_layer()
    {
        var video = Consumer(SimulcastProducer("v"), _subscriber, _clock);

        EagerAllocator().Allocate([video], 60_000, At);

        Assert.False(video.IsVideoPaused);
        Assert.Equal(0, video.Layers!.TargetLayer);
        Assert.Empty(_events);
    }
}
