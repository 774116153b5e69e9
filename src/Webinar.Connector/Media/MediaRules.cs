namespace Webinar.Connector.Media;

/// <summary>
/// What the connector accepts (after the Vonage Video Connector's rules): every check on audio and video input lives
/// here, and each refusal is an <see cref="ArgumentException"/> saying which rule was broken, thrown before anything
/// is sent.
/// </summary>
public static class MediaRules
{
    /// <summary>The sample rates audio may have.</summary>
    public static IReadOnlyList<int> SampleRates { get; } = [8000, 12000, 16000, 24000, 32000, 44100, 48000];

    /// <summary>The most pixels a frame may have (1920x1080).</summary>
    public const int MaxPixels = 1920 * 1080;

    /// <summary>The longest side a frame may have.</summary>
    public const int MaxSide = 1920;

    public const int MinFramesPerSecond = 1;
    public const int MaxFramesPerSecond = 30;

    public static void CheckSampleRate(int sampleRate, string parameter)
    {
        if (!SampleRates.Contains(sampleRate))
        {
            throw new ArgumentOutOfRangeException(parameter, sampleRate,
                $"Sample rate {sampleRate} Hz is not allowed; use one of {string.Join(", ", SampleRates)} Hz.");
        }
    }

    public static void CheckChannels(int channels, string parameter)
    {
        if (channels is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(parameter, channels, $"{channels} channels is not allowed; audio is mono (1) or stereo (2).");
        }
    }

    public static void CheckResolution(VideoResolution resolution, string parameter)
    {
        if (resolution.Width < 2 || resolution.Height < 2 || resolution.Width > MaxSide || resolution.Height > MaxSide || resolution.Pixels > MaxPixels)
        {
            throw new ArgumentOutOfRangeException(parameter, resolution,
                $"Resolution {resolution} is not allowed; frames are at least 2x2, at most {MaxSide} on a side and {MaxPixels:N0} pixels (1920x1080).");
        }
    }

    public static void CheckFormat(VideoFormat format, string parameter)
    {
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(parameter, format, "The video format must be Yuv420P, Rgb24 or Argb32.");
        }
    }

    public static void CheckFramesPerSecond(int framesPerSecond, string parameter)
    {
        if (framesPerSecond is < MinFramesPerSecond or > MaxFramesPerSecond)
        {
            throw new ArgumentOutOfRangeException(parameter, framesPerSecond, $"{framesPerSecond} frames/s is not allowed; use {MinFramesPerSecond} to {MaxFramesPerSecond}.");
        }
    }

    /// <summary>Checks audio a publisher is given: rate and channels as configured, a buffer holding frames × channels samples.</summary>
    public static void CheckAudio(in AudioData audio, int expectedRate, int expectedChannels)
    {
        CheckSampleRate(audio.SampleRate, nameof(audio));
        CheckChannels(audio.Channels, nameof(audio));
        if (audio.Frames <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(audio), audio.Frames, "Audio data must hold at least one frame.");
        }

        if (audio.Samples.Length < audio.Frames * audio.Channels)
        {
            throw new ArgumentException(
                $"The sample buffer holds {audio.Samples.Length} samples but {audio.Frames} frames × {audio.Channels} channels need {audio.Frames * audio.Channels}.", nameof(audio));
        }

        if (audio.SampleRate != expectedRate || audio.Channels != expectedChannels)
        {
            throw new ArgumentException(
                $"The publisher takes {expectedRate} Hz with {expectedChannels} channel(s) (its settings) but was given {audio.SampleRate} Hz with {audio.Channels}.", nameof(audio));
        }
    }

    /// <summary>Checks a frame a publisher is given: an allowed resolution and format, a buffer large enough for them.</summary>
    public static void CheckVideo(in VideoFrame frame)
    {
        CheckFormat(frame.Format, nameof(frame));
        CheckResolution(frame.Resolution, nameof(frame));
        int needed = VideoFormats.BufferSize(frame.Format, frame.Resolution);
        if (frame.Buffer.Length < needed)
        {
            throw new ArgumentException(
                $"The frame buffer holds {frame.Buffer.Length} bytes but {frame.Format} at {frame.Resolution} needs {needed}.", nameof(frame));
        }
    }
}
