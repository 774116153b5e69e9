using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class KeyframeDetectorTests
{
    public static TheoryData<string, byte[], bool> Vp8Payloads => new()
    {
        // S=1, PID=0, no X; VP8 header byte with P=0 (key frame, size bits set as a real one would have).
        { "minimal descriptor, key frame", new byte[] { 0x10, 0x50, 0x2A, 0x01 }, true },
        { "minimal descriptor, inter frame", new byte[] { 0x10, 0x51, 0x2A, 0x01 }, false },
        // X=1, I=1 with 15-bit PictureID (M=1), L=1 TL0PICIDX, T=1 TID byte — what Chromium sends.
        { "extended descriptor, key frame", new byte[] { 0x90, 0xE0, 0x80, 0x01, 0x05, 0x20, 0x10, 0x02, 0x9D }, true },
        { "extended descriptor, 7-bit picture id, key frame", new byte[] { 0x90, 0x80, 0x05, 0x00, 0x9D }, true },
        { "not the start of a partition", new byte[] { 0x00, 0x50 }, false },
        { "start of partition 1", new byte[] { 0x11, 0x50 }, false },
        { "descriptor with nothing after it", new byte[] { 0x90, 0xE0, 0x80 }, false },
        { "empty", Array.Empty<byte>(), false },
    };

    [Theory]
    [MemberData(nameof(Vp8Payloads))]
    public void Vp8_key_frames_are_found_after_the_payload_descriptor(string name, byte[] payload, bool expected)
    {
        Assert.True(expected == KeyframeDetector.IsVp8Keyframe(payload), name);
    }

    public static TheoryData<string, byte[], bool> H264Payloads => new()
    {
        { "IDR slice", new byte[] { 0x65, 0x88 }, true },
        { "non-IDR slice", new byte[] { 0x41, 0x9A }, false },
        { "SPS", new byte[] { 0x67, 0x42 }, true },
        { "STAP-A with SPS, PPS, IDR", new byte[] { 0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x02, 0x65, 0x88 }, true },
        { "STAP-A with SEI and non-IDR", new byte[] { 0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9A }, false },
        { "STAP-A with a size past the end", new byte[] { 0x78, 0x00, 0x09, 0x65, 0x88 }, false },
        { "FU-A start of IDR", new byte[] { 0x7C, 0x85, 0x88 }, true },
        { "FU-A middle of IDR", new byte[] { 0x7C, 0x05, 0x88 }, false },
        { "FU-A start of non-IDR", new byte[] { 0x7C, 0x81, 0x9A }, false },
        { "FU-A cut", new byte[] { 0x7C }, false },
    };

    [Theory]
    [MemberData(nameof(H264Payloads))]
    public void H264_key_frames_are_found_in_single_aggregated_and_fragmented_units(string name, byte[] payload, bool expected)
    {
        Assert.True(expected == KeyframeDetector.IsH264Keyframe(payload), name);
    }
}
