using Webinar.Connector.Media;

namespace Webinar.Connector.Publishing;

/// <summary>What a <see cref="Publisher"/> sends and what it takes. Checked by <see cref="Validate"/> before anything is sent.</summary>
public sealed record PublisherSettings
{
    public static PublisherSettings Default { get; } = new();

    public bool HasAudio { get; init; } = true;

    public bool HasVideo { get; init; } = true;

    /// <summary>The rate of the <see cref="AudioData"/> you add (resampled to Opus's 48 kHz).</summary>
    public int SampleRate { get; init; } = 48000;

    /// <summary>1 (mono) or 2 (stereo): the audio you add and the Opus stream sent.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>The size of the <see cref="VideoFrame"/>s you add and of the VP8 stream sent.</summary>
    public VideoResolution Resolution { get; init; } = new(640, 360);

    /// <summary>The format of the frames you add.</summary>
    public VideoFormat Format { get; init; } = VideoFormat.Yuv420P;

    public int FramesPerSecond { get; init; } = 30;

    /// <summary>VP8 target bitrate (kbit/s).</summary>
    public int VideoBitrateKbps { get; init; } = 800;

    /// <summary>Opus bitrate (bit/s).</summary>
    public int AudioBitrate { get; init; } = 64_000;

    /// <summary>Opus discontinuous transmission (fewer packets in silence).</summary>
    public bool OpusDtx { get; init; }

    /// <summary>The most audio the publisher queues ahead of sending; <see cref="Publisher.AddAudio"/> refuses more.</summary>
    public TimeSpan MaxAudioBuffer { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The most frames the publisher queues ahead of sending; <see cref="Publisher.AddVideo"/> refuses more.</summary>
    public int MaxVideoFramesQueued { get; init; } = 60;

    /// <summary>How long the last frame is repeated when none is added, before black frames are sent.</summary>
    public TimeSpan RepeatLastFrameFor { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting outside the rules.</summary>
    public void Validate()
    {
        if (!HasAudio && !HasVideo)
        {
            throw new ArgumentException("A publisher sends audio, video or both: HasAudio and HasVideo are both false.", "settings");
        }

        MediaRules.CheckSampleRate(SampleRate, nameof(SampleRate));
        MediaRules.CheckChannels(Channels, nameof(Channels));
        MediaRules.CheckResolution(Resolution, nameof(Resolution));
        MediaRules.CheckFormat(Format, nameof(Format));
        MediaRules.CheckFramesPerSecond(FramesPerSecond, nameof(FramesPerSecond));
        if (VideoBitrateKbps is < 50 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(VideoBitrateKbps), VideoBitrateKbps, "The video bitrate is 50 to 10,000 kbit/s.");
        }

        if (AudioBitrate is < 6_000 or > 510_000)
        {
            throw new ArgumentOutOfRangeException(nameof(AudioBitrate), AudioBitrate, "The Opus bitrate is 6,000 to 510,000 bit/s.");
        }
    }
}

/// <summary>How much media a publisher holds that has not been sent yet.</summary>
public sealed record MediaBufferStats(AudioBufferStats? Audio, VideoBufferStats? Video);

public sealed record AudioBufferStats(TimeSpan Duration);

public sealed record VideoBufferStats(TimeSpan Duration);
