using System.Runtime.InteropServices;

using Webinar.Connector.Media;

namespace Webinar.Connector.Codecs;

/// <summary>
/// A realtime VP8 encoder (libvpx, one pass CBR, no lag, error resilient) for I420 frames of one size. Not thread safe:
/// one sending thread.
/// </summary>
internal sealed unsafe class Vp8Encoder : IDisposable
{
    private readonly byte* _context;
    private readonly byte* _image;
    private long _pts;
    private bool _disposed;

    public Vp8Encoder(int width, int height, int framesPerSecond, int bitrateKbps, int threads = 1)
    {
        Width = width;
        Height = height;
        _context = (byte*)NativeMemory.AllocZeroed(LibVpx.ContextSize);
        _image = (byte*)NativeMemory.AllocZeroed(LibVpx.ImageSize);
        byte* cfg = stackalloc byte[LibVpx.EncoderConfigSize];
        try
        {
            nint iface = LibVpx.vpx_codec_vp8_cx();
            LibVpx.Check(LibVpx.vpx_codec_enc_config_default(iface, cfg, 0), "enc_config_default");
            *(uint*)(cfg + LibVpx.CfgThreads) = (uint)threads;
            *(uint*)(cfg + LibVpx.CfgWidth) = (uint)width;
            *(uint*)(cfg + LibVpx.CfgHeight) = (uint)height;
            *(int*)(cfg + LibVpx.CfgTimebaseNum) = 1;
            *(int*)(cfg + LibVpx.CfgTimebaseDen) = framesPerSecond;
            *(uint*)(cfg + LibVpx.CfgErrorResilient) = 1;
            *(uint*)(cfg + LibVpx.CfgLagInFrames) = 0;
            *(uint*)(cfg + LibVpx.CfgDropFrameThreshold) = 0;
            *(int*)(cfg + LibVpx.CfgEndUsage) = LibVpx.EndUsageCbr;
            *(uint*)(cfg + LibVpx.CfgTargetBitrate) = (uint)bitrateKbps;
            *(uint*)(cfg + LibVpx.CfgMinQuantizer) = 4;
            *(uint*)(cfg + LibVpx.CfgMaxQuantizer) = 56;
            *(uint*)(cfg + LibVpx.CfgKeyframeMaxDistance) = (uint)(framesPerSecond * 10);
            LibVpx.Check(LibVpx.vpx_codec_enc_init_ver(_context, iface, cfg, 0, LibVpx.EncoderAbiVersion), "enc_init");
            LibVpx.Check(LibVpx.vpx_codec_control_(_context, LibVpx.Vp8eSetCpuUsed, 10), "VP8E_SET_CPUUSED");
        }
        catch
        {
            NativeMemory.Free(_context);
            NativeMemory.Free(_image);
            throw;
        }
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>
    /// Encodes one I420 frame (<see cref="VideoFormats.I420Size"/> bytes) and hands each compressed frame to
    /// <paramref name="output"/> (its span is valid only during the call).
    /// </summary>
    public void Encode(ReadOnlySpan<byte> i420, bool forceKeyframe, Vp8FrameHandler output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (i420.Length < VideoFormats.I420Size(Width, Height))
        {
            throw new ArgumentException("The I420 buffer is smaller than the encoder's frame size.", nameof(i420));
        }

        fixed (byte* data = i420)
        {
            LibVpx.vpx_img_wrap(_image, LibVpx.ImageFormatI420, (uint)Width, (uint)Height, 1, data);
            LibVpx.Check(LibVpx.vpx_codec_encode(_context, _image, _pts++, 1, forceKeyframe ? LibVpx.ForceKeyframe : 0, LibVpx.DeadlineRealtime), "encode");
        }

        nint iterator = 0;
        byte* packet;
        while ((packet = LibVpx.vpx_codec_get_cx_data(_context, &iterator)) != null)
        {
            if (*(int*)(packet + LibVpx.PktKind) != LibVpx.PacketKindFrame)
            {
                continue;
            }

            byte* buffer = *(byte**)(packet + LibVpx.PktBuffer);
            int size = (int)*(nuint*)(packet + LibVpx.PktSize);
            bool key = (*(uint*)(packet + LibVpx.PktFlags) & LibVpx.FrameIsKey) != 0;
            output(new ReadOnlySpan<byte>(buffer, size), key);
        }
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
        NativeMemory.Free(_image);
    }
}

/// <summary>One compressed VP8 frame; the span is valid only during the call.</summary>
internal delegate void Vp8FrameHandler(ReadOnlySpan<byte> frame, bool keyframe);
