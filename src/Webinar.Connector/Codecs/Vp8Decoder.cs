using System.Runtime.InteropServices;

using Webinar.Connector.Media;

namespace Webinar.Connector.Codecs;

/// <summary>A VP8 decoder (libvpx) producing packed I420. Not thread safe: one receiving worker.</summary>
internal sealed unsafe class Vp8Decoder : IDisposable
{
    private readonly byte* _context;
    private bool _disposed;

    public Vp8Decoder()
    {
        _context = (byte*)NativeMemory.AllocZeroed(LibVpx.ContextSize);
        try
        {
            LibVpx.Check(LibVpx.vpx_codec_dec_init_ver(_context, LibVpx.vpx_codec_vp8_dx(), 0, 0, LibVpx.DecoderAbiVersion), "dec_init");
        }
        catch
        {
            NativeMemory.Free(_context);
            throw;
        }
    }

    /// <summary>
    /// Decodes one compressed frame into <paramref name="i420"/> (grown when the frame size changes). False when the
    /// data does not decode (corrupt, or an inter frame without its reference) or yields no picture.
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> frame, ref byte[] i420, out int width, out int height)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        width = height = 0;
        fixed (byte* data = frame)
        {
            if (LibVpx.vpx_codec_decode(_context, data, (uint)frame.Length, 0, 0) != 0)
            {
                return false;
            }
        }

        nint iterator = 0;
        byte* image = LibVpx.vpx_codec_get_frame(_context, &iterator);
        if (image == null || *(int*)(image + LibVpx.ImgFormat) != LibVpx.ImageFormatI420)
        {
            return false;
        }

        width = (int)*(uint*)(image + LibVpx.ImgDisplayWidth);
        height = (int)*(uint*)(image + LibVpx.ImgDisplayHeight);
        int size = VideoFormats.I420Size(width, height);
        if (i420.Length < size)
        {
            i420 = new byte[size];
        }

        byte** planes = (byte**)(image + LibVpx.ImgPlanes);
        int* strides = (int*)(image + LibVpx.ImgStrides);
        int chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2;
        var destination = i420.AsSpan();
        CopyPlane(planes[0], strides[0], width, height, destination);
        CopyPlane(planes[1], strides[1], chromaWidth, chromaHeight, destination[(width * height)..]);
        CopyPlane(planes[2], strides[2], chromaWidth, chromaHeight, destination[(width * height + chromaWidth * chromaHeight)..]);
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LibVpx.vpx_codec_destroy(_context);
        NativeMemory.Free(_context);
    }

    private static void CopyPlane(byte* source, int stride, int width, int height, Span<byte> destination)
    {
        for (int row = 0; row < height; row++)
        {
            new ReadOnlySpan<byte>(source + (row * stride), width).CopyTo(destination.Slice(row * width, width));
        }
    }
}
