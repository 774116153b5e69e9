using Webinar.Connector.Client;
using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Client;

public sealed class SyntheticMediaTests
{
    [Fact]
    public void Vp8_key_frames_are_recognised_as_key_frames_and_delta_frames_are_not()
    {
        var buffer = new byte[1100];
        int length = SyntheticMedia.WriteVideo(buffer, 1100, firstPacketOfFrame: true, keyframe: true, pictureId: 77, frameSize: 20000, 5, 9);
        Assert.True(KeyframeDetector.IsVp8Keyframe(buffer.AsSpan(0, length)));
        Assert.Equal(SyntheticMedia.Width, BitConverter.ToUInt16(buffer, SyntheticMedia.Vp8DescriptorLength + 6) & 0x3FFF);

        length = SyntheticMedia.WriteVideo(buffer, 1100, firstPacketOfFrame: true, keyframe: false, 78, 6000, 6, 9);
        Assert.False(KeyframeDetector.IsVp8Keyframe(buffer.AsSpan(0, length)));
        length = SyntheticMedia.WriteVideo(buffer, 1100, firstPacketOfFrame: false, keyframe: true, 77, 20000, 7, 9);
        Assert.False(KeyframeDetector.IsVp8Keyframe(buffer.AsSpan(0, length))); // not the start of the frame
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Video_tags_read_back_whatever_the_frame_header(bool first, bool keyframe)
    {
        var buffer = new byte[600];
        SyntheticMedia.WriteVideo(buffer, 600, first, keyframe, 1, 6000, 0xFFFE, 0xDEADBEEF);
        Assert.True(SyntheticMedia.TryReadTag(buffer, video: true, out ushort seq, out uint ssrc));
        Assert.Equal((0xFFFE, 0xDEADBEEFu), (seq, ssrc));
    }

    [Fact]
    public void Audio_payloads_are_opus_sized_and_tagged()
    {
        var buffer = new byte[200];
        Assert.Equal(SyntheticMedia.AudioPayloadLength, SyntheticMedia.WriteAudio(buffer, 42, 7));
        Assert.True(SyntheticMedia.TryReadTag(buffer.AsSpan(0, SyntheticMedia.AudioPayloadLength), video: false, out ushort seq, out uint ssrc));
        Assert.Equal((42, 7u), (seq, ssrc));
    }

    [Fact]
    public void Reading_tags_of_random_bytes_never_throws()
    {
        var random = new Random(3);
        for (int i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            SyntheticMedia.TryReadTag(bytes, video: random.Next(2) == 0, out _, out _);
        }
    }
}
