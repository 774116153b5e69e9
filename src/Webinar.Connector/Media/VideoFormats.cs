namespace Webinar.Connector.Media;

/// <summary>Buffer sizes and conversions between YUV420P (BT.601, limited range) and the packed BGR formats.</summary>
public static class VideoFormats
{
    public static int I420Size(int width, int height)
    {
        var (lumaSize, _, chromaSize) = I420Layout(width, height);
        return lumaSize + (2 * chromaSize);
    }

    public static int BufferSize(VideoFormat format, VideoResolution resolution) => format switch
    {
        VideoFormat.Yuv420P => I420Size(resolution.Width, resolution.Height),
        VideoFormat.Rgb24 or VideoFormat.Argb32 => resolution.Pixels * BytesPerPixel(format),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown video format."),
    };

    /// <summary>Bytes per pixel of a packed format: B, G, R (and A, always 255 when written).</summary>
    private static int BytesPerPixel(VideoFormat format) => format == VideoFormat.Rgb24 ? 3 : 4;

    /// <summary>Where the Y, U and V planes of an I420 frame start and how wide a chroma row is.</summary>
    private static (int LumaSize, int ChromaWidth, int ChromaSize) I420Layout(int width, int height)
    {
        int chromaWidth = (width + 1) / 2;
        return (width * height, chromaWidth, chromaWidth * ((height + 1) / 2));
    }

    /// <summary>Converts <paramref name="source"/> (any format) to I420 of the same size.</summary>
    public static void ToI420(ReadOnlySpan<byte> source, VideoFormat format, int width, int height, Span<byte> i420)
    {
        if (format == VideoFormat.Yuv420P)
        {
            source[..I420Size(width, height)].CopyTo(i420);
            return;
        }

        int bytesPerPixel = BytesPerPixel(format);
        var (lumaSize, chromaWidth, chromaSize) = I420Layout(width, height);
        var y = i420[..lumaSize];
        var u = i420.Slice(lumaSize, chromaSize);
        var v = i420.Slice(lumaSize + chromaSize, chromaSize);
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

        int bytesPerPixel = BytesPerPixel(format);
        var (lumaSize, chromaWidth, chromaSize) = I420Layout(width, height);
        var y = i420[..lumaSize];
        var u = i420.Slice(lumaSize, chromaSize);
        var v = i420.Slice(lumaSize + chromaSize, chromaSize);
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
