namespace Webinar.Connector.Media;

/// <summary>The pixel layout of a <see cref="VideoFrame"/> buffer (8 bits per component).</summary>
public enum VideoFormat
{
    /// <summary>Planar Y, then U and V at half width and height (4:2:0), BT.601 limited range.</summary>
    Yuv420P,

    /// <summary>Packed 24-bit, bytes in B, G, R order.</summary>
    Rgb24,

    /// <summary>Packed 32-bit, bytes in B, G, R, A order.</summary>
    Argb32,
}

/// <summary>Width and height in pixels.</summary>
public readonly record struct VideoResolution(int Width, int Height)
{
    public int Pixels => Width * Height;

    public override string ToString() => $"{Width}x{Height}";
}

/// <summary>
/// One picture: <see cref="Buffer"/> holds <see cref="VideoFormats.BufferSize"/> bytes of <see cref="Format"/> at
/// <see cref="Resolution"/>. A delivered frame's buffer is valid only during the callback: copy what you keep.
/// </summary>
public readonly record struct VideoFrame(ReadOnlyMemory<byte> Buffer, VideoResolution Resolution, VideoFormat Format);
