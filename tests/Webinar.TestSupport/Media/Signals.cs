using Webinar.Connector.Media;

namespace Webinar.TestSupport.Media;

/// <summary>Test signals and their analysis: tones, their strongest frequency, moving colour patterns.</summary>
public static class Signals
{
    /// <summary>Interleaved 16-bit samples of a sine at <paramref name="frequency"/> (same on every channel).</summary>
    public static short[] Tone(double frequency, int sampleRate, int channels, int frames, int startFrame = 0, double amplitude = 12000)
    {
        var samples = new short[frames * channels];
        for (int i = 0; i < frames; i++)
        {
            short value = (short)(amplitude * Math.Sin(2 * Math.PI * frequency * (startFrame + i) / sampleRate));
            for (int c = 0; c < channels; c++)
            {
                samples[(i * channels) + c] = value;
            }
        }

        return samples;
    }

    /// <summary>Power of channel 0 at <paramref name="frequency"/> (Goertzel), normalised by the frame count.</summary>
    public static double PowerAt(ReadOnlySpan<short> samples, int channels, int sampleRate, double frequency)
    {
        int frames = samples.Length / channels;
        double coefficient = 2 * Math.Cos(2 * Math.PI * frequency / sampleRate);
        double s1 = 0, s2 = 0;
        for (int i = 0; i < frames; i++)
        {
            double s0 = samples[i * channels] + (coefficient * s1) - s2;
            s2 = s1;
            s1 = s0;
        }

        return ((s1 * s1) + (s2 * s2) - (coefficient * s1 * s2)) / frames / frames;
    }

    /// <summary>The strongest frequency of channel 0 between 50 Hz and 4 kHz, in 10 Hz steps.</summary>
    public static double DominantFrequency(ReadOnlySpan<short> samples, int channels, int sampleRate)
    {
        double best = 0, bestPower = -1;
        for (double f = 50; f <= 4000; f += 10)
        {
            double power = PowerAt(samples, channels, sampleRate, f);
            if (power > bestPower)
            {
                (best, bestPower) = (f, power);
            }
        }

        return best;
    }

    /// <summary>A BGR(A) test picture: colour bars shifted by <paramref name="frame"/> pixels per frame.</summary>
    public static byte[] Pattern(VideoFormat format, int width, int height, int frame)
    {
        var buffer = new byte[VideoFormats.BufferSize(format, new VideoResolution(width, height))];
        if (format == VideoFormat.Yuv420P)
        {
            var bgr = Pattern(VideoFormat.Rgb24, width, height, frame);
            VideoFormats.ToI420(bgr, VideoFormat.Rgb24, width, height, buffer);
            return buffer;
        }

        int bytesPerPixel = format == VideoFormat.Rgb24 ? 3 : 4;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int bar = (((x + (frame * 4)) * 8 / width) % 8 + 8) % 8;
                int o = ((y * width) + x) * bytesPerPixel;
                buffer[o] = (byte)((bar & 1) != 0 ? 235 : 16);
                buffer[o + 1] = (byte)((bar & 2) != 0 ? 235 : 16);
                buffer[o + 2] = (byte)((bar & 4) != 0 ? 235 : 16);
                if (bytesPerPixel == 4)
                {
                    buffer[o + 3] = 255;
                }
            }
        }

        return buffer;
    }
}
