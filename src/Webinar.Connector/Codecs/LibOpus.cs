using System.Runtime.InteropServices;

namespace Webinar.Connector.Codecs;

/// <summary>P/Invoke into libopus (Debian <c>libopus0</c>). Chosen over Concentus by measurement: see docs/connector.md.</summary>
internal static unsafe partial class LibOpus
{
    private const string Library = "libopus.so.0";

    public const int ApplicationAudio = 2049;
    public const int SetBitrateRequest = 4002;
    public const int SetComplexityRequest = 4010;
    public const int SetInbandFecRequest = 4012;
    public const int SetDtxRequest = 4016;

    [LibraryImport(Library)]
    public static partial nint opus_encoder_create(int sampleRate, int channels, int application, int* error);

    /// <summary>The variadic <c>opus_encoder_ctl</c> with one int argument.</summary>
    [LibraryImport(Library)]
    public static partial int opus_encoder_ctl(nint encoder, int request, int value);

    [LibraryImport(Library)]
    public static partial int opus_encode(nint encoder, short* pcm, int frameSize, byte* data, int maxDataBytes);

    [LibraryImport(Library)]
    public static partial void opus_encoder_destroy(nint encoder);

    [LibraryImport(Library)]
    public static partial nint opus_decoder_create(int sampleRate, int channels, int* error);

    [LibraryImport(Library)]
    public static partial int opus_decode(nint decoder, byte* data, int length, short* pcm, int frameSize, int decodeFec);

    [LibraryImport(Library)]
    public static partial void opus_decoder_destroy(nint decoder);

    [LibraryImport(Library)]
    public static partial nint opus_strerror(int error);

    public static string Error(int code) => Marshal.PtrToStringUTF8(opus_strerror(code)) ?? code.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An Opus encoder at 48 kHz (the RTP clock, RFC 7587), mono or stereo, 20 ms frames. One sending thread.</summary>
internal sealed unsafe class OpusEncoder : IDisposable
{
    public const int SampleRate = 48000;
    public const int FrameSamples = 960;
    private nint _encoder;

    public OpusEncoder(int channels, int bitrate, bool dtx)
    {
        Channels = channels;
        int error;
        _encoder = LibOpus.opus_encoder_create(SampleRate, channels, LibOpus.ApplicationAudio, &error);
        if (_encoder == 0 || error != 0)
        {
            throw new InvalidOperationException("opus_encoder_create failed: " + LibOpus.Error(error));
        }

        LibOpus.opus_encoder_ctl(_encoder, LibOpus.SetBitrateRequest, bitrate);
        LibOpus.opus_encoder_ctl(_encoder, LibOpus.SetInbandFecRequest, 1);
        LibOpus.opus_encoder_ctl(_encoder, LibOpus.SetDtxRequest, dtx ? 1 : 0);
    }

    public int Channels { get; }

    /// <summary>Encodes 20 ms (960 frames × channels interleaved samples); returns the packet length.</summary>
    public int Encode(ReadOnlySpan<short> pcm, Span<byte> packet)
    {
        ObjectDisposedException.ThrowIf(_encoder == 0, this);
        fixed (short* input = pcm)
        fixed (byte* output = packet)
        {
            int length = LibOpus.opus_encode(_encoder, input, FrameSamples, output, packet.Length);
            if (length < 0)
            {
                throw new InvalidOperationException("opus_encode failed: " + LibOpus.Error(length));
            }

            return length;
        }
    }

    public void Dispose()
    {
        if (_encoder != 0)
        {
            LibOpus.opus_encoder_destroy(_encoder);
            _encoder = 0;
        }
    }
}

/// <summary>An Opus decoder at 48 kHz with the given channel count. One receiving worker.</summary>
internal sealed unsafe class OpusDecoder : IDisposable
{
    /// <summary>The longest Opus packet: 120 ms at 48 kHz.</summary>
    public const int MaxFrameSamples = 5760;
    private nint _decoder;

    public OpusDecoder(int channels)
    {
        Channels = channels;
        int error;
        _decoder = LibOpus.opus_decoder_create(OpusEncoder.SampleRate, channels, &error);
        if (_decoder == 0 || error != 0)
        {
            throw new InvalidOperationException("opus_decoder_create failed: " + LibOpus.Error(error));
        }
    }

    public int Channels { get; }

    /// <summary>Decodes a packet (empty: conceal one lost 20 ms frame); returns frames per channel, or -1 when corrupt.</summary>
    public int Decode(ReadOnlySpan<byte> packet, Span<short> pcm)
    {
        ObjectDisposedException.ThrowIf(_decoder == 0, this);
        int maxFrames = Math.Min(MaxFrameSamples, pcm.Length / Channels);
        fixed (byte* input = packet)
        fixed (short* output = pcm)
        {
            int frames = LibOpus.opus_decode(_decoder, packet.IsEmpty ? null : input, packet.Length, output,
                packet.IsEmpty ? OpusEncoder.FrameSamples : maxFrames, 0);
            return frames < 0 ? -1 : frames;
        }
    }

    public void Dispose()
    {
        if (_decoder != 0)
        {
            LibOpus.opus_decoder_destroy(_decoder);
            _decoder = 0;
        }
    }
}
