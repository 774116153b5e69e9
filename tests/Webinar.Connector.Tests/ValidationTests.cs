using Webinar.Connector.Client;
using Webinar.Connector.Media;
using Webinar.Connector.Publishing;
using Webinar.Connector.Sessions;
using Webinar.Connector.Subscribing;

namespace Webinar.Connector.Tests;

/// <summary>Inputs outside the rules are refused with a clear exception before anything is sent.</summary>
public sealed class ValidationTests
{
    public static TheoryData<int> BadRates => [0, 7999, 11025, 22050, 44000, 96000, -48000];

    [Theory]
    [MemberData(nameof(BadRates))]
    public void Sample_rates_outside_the_allowed_set_are_refused(int rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { SampleRate = rate }.Validate());
        Assert.Contains("8000, 12000, 16000, 24000, 32000, 44100, 48000", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SubscriberSettings { SampleRate = rate }.Validate());
    }

    [Theory]
    [InlineData(8000)]
    [InlineData(12000)]
    [InlineData(16000)]
    [InlineData(24000)]
    [InlineData(32000)]
    [InlineData(44100)]
    [InlineData(48000)]
    public void Every_allowed_sample_rate_is_accepted(int rate)
    {
        new PublisherSettings { SampleRate = rate }.Validate();
        new SubscriberSettings { SampleRate = rate }.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(6)]
    public void Only_mono_and_stereo_are_allowed(int channels)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { Channels = channels }.Validate());
        Assert.Contains("mono (1) or stereo (2)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SubscriberSettings { Channels = channels }.Validate());
    }

    [Theory]
    [InlineData(1921, 1080)]
    [InlineData(1920, 1081)]
    [InlineData(2560, 1440)]
    [InlineData(1, 720)]
    [InlineData(0, 0)]
    [InlineData(1080, 1921)]
    public void Resolutions_beyond_1920x1080_or_degenerate_are_refused(int width, int height)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { Resolution = new(width, height) }.Validate());
        Assert.Contains("1920x1080", e.Message);
    }

    [Fact]
    public void Landscape_and_portrait_full_hd_are_accepted_and_one_pixel_more_is_not()
    {
        new PublisherSettings { Resolution = new(1920, 1080) }.Validate();
        new PublisherSettings { Resolution = new(1080, 1920) }.Validate();
        new PublisherSettings { Resolution = new(1440, 1440) }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { Resolution = new(1441, 1440) }.Validate());
    }

    [Fact]
    public void Unknown_formats_and_frame_rates_outside_1_to_30_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { Format = (VideoFormat)7 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SubscriberSettings { Format = (VideoFormat)7 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { FramesPerSecond = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PublisherSettings { FramesPerSecond = 31 }.Validate());
    }

    [Fact]
    public void A_publisher_without_audio_and_video_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new PublisherSettings { HasAudio = false, HasVideo = false }.Validate());
        Assert.Contains("audio, video or both", e.Message);
    }

    [Fact]
    public async Task A_publisher_refuses_bad_audio_and_video_and_sends_nothing()
    {
        using var client = new WebRtcClient();
        var audioTrack = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var videoTrack = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var settings = new PublisherSettings { SampleRate = 16000, Channels = 2, Resolution = new(320, 240), Format = VideoFormat.Rgb24 };
        var publisher = new Publisher(client, audioTrack, videoTrack, settings, _ => ValueTask.CompletedTask);
        await using (publisher)
        {
            var samples = new short[320 * 2];

            // Too few samples for frames x channels.
            var e = Assert.Throws<ArgumentException>(() => publisher.AddAudio(new AudioData(samples.AsMemory(0, 639), 16000, 2, 320)));
            Assert.Contains("need 640", e.Message);

            // Not the publisher's rate or channel count, or not an allowed rate at all.
            Assert.Contains("16000 Hz with 2 channel(s)", Assert.Throws<ArgumentException>(() => publisher.AddAudio(new AudioData(samples, 48000, 2, 320))).Message);
            Assert.Throws<ArgumentException>(() => publisher.AddAudio(new AudioData(samples, 16000, 1, 320)));
            Assert.Throws<ArgumentOutOfRangeException>(() => publisher.AddAudio(new AudioData(samples, 22050, 2, 320)));
            Assert.Throws<ArgumentOutOfRangeException>(() => publisher.AddAudio(new AudioData(samples, 16000, 3, 200)));
            Assert.Throws<ArgumentOutOfRangeException>(() => publisher.AddAudio(new AudioData(samples, 16000, 2, 0)));

            // A buffer too small for the format, another format or size than the settings, a resolution beyond 1080p.
            var rgb = new byte[320 * 240 * 3];
            Assert.Contains("needs 230400", Assert.Throws<ArgumentException>(() => publisher.AddVideo(new VideoFrame(rgb.AsMemory(1), new(320, 240), VideoFormat.Rgb24))).Message);
            Assert.Throws<ArgumentException>(() => publisher.AddVideo(new VideoFrame(new byte[320 * 240 * 4], new(320, 240), VideoFormat.Argb32)));
            Assert.Throws<ArgumentException>(() => publisher.AddVideo(new VideoFrame(new byte[640 * 480 * 3], new(640, 480), VideoFormat.Rgb24)));
            Assert.Throws<ArgumentOutOfRangeException>(() => publisher.AddVideo(new VideoFrame(new byte[3840 * 2160 * 3], new(3840, 2160), VideoFormat.Rgb24)));
            Assert.Throws<ArgumentOutOfRangeException>(() => publisher.AddVideo(new VideoFrame(rgb, new(320, 240), (VideoFormat)9)));

            // Nothing was queued by the refused calls; what is valid is queued and counted in the buffer stats.
            var empty = publisher.GetMediaBufferStats();
            Assert.Equal(TimeSpan.Zero, empty.Audio!.Duration);
            Assert.Equal(TimeSpan.Zero, empty.Video!.Duration);
            publisher.ClearMediaBuffers();
            Assert.True(publisher.AddAudio(new AudioData(new short[16000 * 2], 16000, 2, 16000)));
            var stats = publisher.GetMediaBufferStats();
            Assert.InRange(stats.Audio!.Duration.TotalSeconds, 0.99, 1.01);
            Assert.Equal(0, publisher.AudioPacketsSent);
            Assert.Equal(0, publisher.FramesSent);
            Assert.Equal(0, audioTrack.PacketsSent);
            Assert.Equal(0, videoTrack.PacketsSent);
        }
    }

    [Fact]
    public async Task The_audio_queue_refuses_more_than_its_limit()
    {
        using var client = new WebRtcClient();
        var audioTrack = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var settings = new PublisherSettings { HasVideo = false, MaxAudioBuffer = TimeSpan.FromSeconds(1) };
        await using var publisher = new Publisher(client, audioTrack, null, settings, _ => ValueTask.CompletedTask);
        var second = new AudioData(new short[48000], 48000, 1, 48000);
        Assert.True(publisher.AddAudio(second));
        Assert.False(publisher.AddAudio(second));
        Assert.Throws<InvalidOperationException>(() => publisher.AddVideo(new VideoFrame(new byte[VideoFormats.I420Size(640, 360)], new(640, 360), VideoFormat.Yuv420P)));
    }

    [Fact]
    public async Task A_session_refuses_to_publish_or_subscribe_before_it_connects_and_refuses_non_websocket_urls()
    {
        await using var session = new Session();
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.PublishAsync());
        Assert.Throws<InvalidOperationException>(() => session.Subscribe(new RemoteStream("s", new Attendee("a", "u"), MediaKind.Audio)));
        await Assert.ThrowsAsync<ArgumentException>(() => session.ConnectAsync(new Uri("http://127.0.0.1:1/signal"), "token"));
        await Assert.ThrowsAsync<ArgumentException>(() => session.ConnectAsync(new Uri("ws://127.0.0.1:1/signal"), ""));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.PublishAsync(new PublisherSettings { SampleRate = 22050 }));
    }
}
