using System.Runtime.InteropServices;

namespace Webinar.Connector.Codecs;

/// <summary>
/// P/Invoke into libvpx 1.12 (Debian <c>libvpx7</c>): the VP8 encoder and decoder interfaces. The structs are opaque
/// buffers read and written at the offsets of libvpx 1.12's x86-64 ABI (checked against its headers with offsetof);
/// the ABI version constants are the ones <c>vpx_codec_enc_init_ver</c>/<c>vpx_codec_dec_init_ver</c> check, so a
/// different libvpx ABI is refused with <see cref="VpxException"/> rather than misread.
/// </summary>
internal static unsafe partial class LibVpx
{
    private const string Library = "libvpx.so.7";

    public const int EncoderAbiVersion = 25;
    public const int DecoderAbiVersion = 12;
    public const int ContextSize = 56;
    public const int EncoderConfigSize = 504;
    public const int ImageSize = 136;
    public const int ImageFormatI420 = 0x102;
    public const long ForceKeyframe = 1;
    public const uint FrameIsKey = 1;
    public const uint DeadlineRealtime = 1;
    public const int Vp8eSetCpuUsed = 13;
    public const int PacketKindFrame = 0;

    // vpx_codec_enc_cfg_t offsets.
    public const int CfgThreads = 4;
    public const int CfgWidth = 12;
    public const int CfgHeight = 16;
    public const int CfgTimebaseNum = 28;
    public const int CfgTimebaseDen = 32;
    public const int CfgErrorResilient = 36;
    public const int CfgLagInFrames = 44;
    public const int CfgDropFrameThreshold = 48;
    public const int CfgEndUsage = 72;
    public const int CfgTargetBitrate = 112;
    public const int CfgMinQuantizer = 116;
    public const int CfgMaxQuantizer = 120;
    public const int CfgKeyframeMaxDistance = 168;
    public const int EndUsageCbr = 1;

    // vpx_image_t offsets.
    public const int ImgFormat = 0;
    public const int ImgDisplayWidth = 24;
    public const int ImgDisplayHeight = 28;
    public const int ImgPlanes = 48;
    public const int ImgStrides = 80;

    // vpx_codec_cx_pkt_t offsets.
    public const int PktKind = 0;
    public const int PktBuffer = 8;
    public const int PktSize = 16;
    public const int PktFlags = 40;

    [LibraryImport(Library)]
    public static partial nint vpx_codec_vp8_cx();

    [LibraryImport(Library)]
    public static partial nint vpx_codec_vp8_dx();

    [LibraryImport(Library)]
    public static partial int vpx_codec_enc_config_default(nint iface, byte* cfg, uint usage);

    [LibraryImport(Library)]
    public static partial int vpx_codec_enc_init_ver(byte* ctx, nint iface, byte* cfg, long flags, int ver);

    [LibraryImport(Library)]
    public static partial int vpx_codec_dec_init_ver(byte* ctx, nint iface, nint cfg, long flags, int ver);

    /// <summary>The variadic <c>vpx_codec_control_</c> with one int argument (an int travels in a register either way on x86-64).</summary>
    [LibraryImport(Library)]
    public static partial int vpx_codec_control_(byte* ctx, int id, int value);

    [LibraryImport(Library)]
    public static partial int vpx_codec_encode(byte* ctx, byte* img, long pts, nuint duration, long flags, nuint deadline);

    [LibraryImport(Library)]
    public static partial byte* vpx_codec_get_cx_data(byte* ctx, nint* iter);

    [LibraryImport(Library)]
    public static partial int vpx_codec_decode(byte* ctx, byte* data, uint size, nint userPriv, long deadline);

    [LibraryImport(Library)]
    public static partial byte* vpx_codec_get_frame(byte* ctx, nint* iter);

    [LibraryImport(Library)]
    public static partial byte* vpx_img_wrap(byte* img, int fmt, uint width, uint height, uint align, byte* data);

    [LibraryImport(Library)]
    public static partial int vpx_codec_destroy(byte* ctx);

    [LibraryImport(Library)]
    public static partial nint vpx_codec_err_to_string(int err);

    public static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new VpxException($"libvpx {what} failed: {Marshal.PtrToStringUTF8(vpx_codec_err_to_string(result))} ({result})");
        }
    }
}

/// <summary>libvpx refused a call (wrong ABI, bad configuration, corrupt data).</summary>
public sealed class VpxException(string message) : Exception(message);
