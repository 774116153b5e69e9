namespace Webinar.Connector.Media;

/// <summary>Buffer sizes and conversions between YUV420P (BT.601, limited range) and the packed BGR formats.</summary>
public static class VideoFormats
{
    public static int I420Size(int width, int height) => (width * height) + (2 * ((width + 1) / 2) * ((height + 1) / 2));

    public static int BufferSize(VideoFormat format, VideoResolution resolution) => format switch
    {
        VideoFormat.Yuv420P => I420Size(resolution.Width, resolution.Height),
        VideoFormat.Rgb24 => resolution.Pixels * 3,
        VideoFormat.Argb32 => resolution.Pixels * 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown video format."),
    };

    /// <summary>Converts <paramref name="source"/> (any format) to I420 of the same size.</summary>
    public static void ToI420(ReadOnlySpan<byte> source, VideoFormat format, int width, int height, Span<byte> i420)
    {
        if (format == VideoFormat.Yuv420P)
        {
            source[..I420Size(width, height)].CopyTo(i420);
            return;
        }

        int bytesPerPixel = format == VideoFormat.Rgb24 ? 3 : 4;
        int chromaWidth = (width + 1) / 2;
        var y = i420[..(width * height)];
        var u = i420.Slice(width * height, chromaWidth * ((height + 1) / 2));
        var v = i420[(width * height + u.Length)..];
        for (int row = 0; row < height; row++)
        {
            var line = source.Slice(row * width * bytesPerPixel, width * bytesPerPixel);
            for (int x = 0; x < width; x++)
            {
                int b = line[x * bytesPerPixel], g = line[(x * bytesPerPixel) + 1], r = line[(x * bytesPerPixel) + 2];
                y[(row * width) + x] = (byte)(16 + (((66 * r) + (129 * g) + (25 * b) + 128) >> 8));
                if ((row & 1) == 0 && (x & 1) == 0)
                {
                    int c = ((row / 2) * chromaWidth) + (x / 2);
                    u[c] = Clamp(128 + (((-38 * r) - (74 * g) + (112 * b) + 128) >> 8));
                    v[c] = Clamp(128 + (((112 * r) - (94 * g) - (18 * b) + 128) >> 8));
                }
            }
        }
    }

    /// <summary>Converts I420 to <paramref name="format"/> of the same size.</summary>
    public static void FromI420(ReadOnlySpan<byte> i420, int width, int height, VideoFormat format, Span<byte> destination)
    {
        if (format == VideoFormat.Yuv420P)
        {
            i420[..I420Size(width, height)].CopyTo(destination);
            return;
        }

        int bytesPerPixel = format == VideoFormat.Rgb24 ? 3 : 4;
        int chromaWidth = (width + 1) / 2;
        var y = i420[..(width * height)];
        var u = i420.Slice(width * height, chromaWidth * ((height + 1) / 2));
        var v = i420[(width * height + u.Length)..];
        for (int row = 0; row < height; row++)
        {
            var line = destination.Slice(row * width * bytesPerPixel, width * bytesPerPixel);
            for (int x = 0; x < width; x++)
            {
                int c = ((row / 2) * chromaWidth) + (x / 2);
                int luma = 298 * (y[(row * width) + x] - 16);
                int d = u[c] - 128, e = v[c] - 128;
                int o = x * bytesPerPixel;
                line[o] = Clamp((luma + (516 * d) + 128) >> 8);
                line[o + 1] = Clamp((luma - (100 * d) - (208 * e) + 128) >> 8);
                line[o + 2] = Clamp((luma + (409 * e) + 128) >> 8);
                if (bytesPerPixel == 4)
                {
                    line[o + 3] = 255;
                }
            }
        }
    }

    /// <summary>Fills an I420 buffer with black.</summary>
    public static void FillBlack(Span<byte> i420, int width, int height)
    {
        i420[..(width * height)].Fill(16);
        i420[(width * height)..I420Size(width, height)].Fill(128);
    }

    private static byte Clamp(int value) => (byte)Math.Clamp(value, 0, 255);
}
