using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class Vp8PayloadDescriptorTests
{
    // RFC 7741 §4.6.1: a key frame in one packet; X=1, S=1, PID=0; I=1; PictureID 17 (7 bits); then the VP8
    // payload header with P=0 (key frame).
    private static readonly byte[] Rfc7741KeyFrame = [0x90, 0x80, 0x11, 0x00, 0x9D, 0x01, 0x2A];

    // RFC 7741 §4.6.2: a non-discardable interframe in one packet, no PictureID: X=0, S=1, PID=0; P=1.
    private static readonly byte[] Rfc7741InterFrameNoPictureId = [0x10, 0x01, 0x02, 0x03];

    // RFC 7741 §4.6.5: a frame with a long (15-bit) PictureID 4711: X=1, S=1; I=1; M=1, 0x1267.
    private static readonly byte[] Rfc7741LongPictureId = [0x90, 0x80, 0x92, 0x67, 0x01];

    [Fact]
    public void Key_frame_with_short_picture_id()
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(Rfc7741KeyFrame, out var d));

        Assert.Equal(3, d.Length);
        Assert.True(d.IsStartOfFrame);
        Assert.True(d.IsKeyframe);
        Assert.Equal(7, d.PictureIdBits);
        Assert.Equal(17, d.PictureId);
        Assert.Equal(Vp8PayloadDescriptor.None, d.Tl0PicIdx);
        Assert.Equal(Vp8PayloadDescriptor.None, d.TemporalLayer);
        Assert.True(KeyframeDetector.IsVp8Keyframe(Rfc7741KeyFrame));
    }

    [Fact]
    public void Interframe_without_extension()
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(Rfc7741InterFrameNoPictureId, out var d));

        Assert.Equal(1, d.Length);
        Assert.True(d.IsStartOfFrame);
        Assert.False(d.IsKeyframe);
        Assert.Equal(Vp8PayloadDescriptor.None, d.PictureId);
        Assert.Equal(0, d.PictureIdBits);
    }

    [Fact]
    public void Long_picture_id()
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(Rfc7741LongPictureId, out var d));

        Assert.Equal(4, d.Length);
        Assert.Equal(15, d.PictureIdBits);
        Assert.Equal(4711, d.PictureId);
        Assert.False(d.IsKeyframe);
    }

    [Fact]
    public void All_optional_fields_of_the_figure_in_section_4_2()
    {
        // X=1 N=1 S=0 PID=2; I L T K; PictureID 0x7FFF; TL0PICIDX 200; TID 2, Y=1, KEYIDX 5.
        byte[] payload = [0xA2, 0xF0, 0xFF, 0xFF, 200, 0xA5, 0x00];

        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));

        Assert.Equal(6, d.Length);
        Assert.True(d.NonReference);
        Assert.False(d.StartOfPartition);
        Assert.Equal(2, d.PartitionIndex);
        Assert.Equal(0x7FFF, d.PictureId);
        Assert.Equal(200, d.Tl0PicIdx);
        Assert.Equal(2, d.TemporalLayer);
        Assert.True(d.LayerSync);
        Assert.False(d.IsKeyframe);
    }

    [Fact]
    public void Writing_keeps_the_field_widths()
    {
        byte[] payload = [0x90, 0xC0, 0x92, 0x67, 7, 0x01];
        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));

        d.WritePictureId(payload, 0x8001); // wraps to 1 in 15 bits
        d.WriteTl0PicIdx(payload, 300);    // wraps to 44

        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var back));
        Assert.Equal(1, back.PictureId);
        Assert.Equal(44, back.Tl0PicIdx);
        Assert.Equal(15, back.PictureIdBits);
        Assert.Equal(0x01, payload[5]);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[] { 0x90, 0x80 })]
    [InlineData(new byte[] { 0x90, 0x80, 0x92 })]
    [InlineData(new byte[] { 0x90, 0x40 })]
    [InlineData(new byte[] { 0x90, 0x20 })]
    public void Truncated_descriptors_are_refused(byte[] payload)
    {
        Assert.False(Vp8PayloadDescriptor.TryParse(payload, out _));
    }

    [Fact]
    public void Random_payloads_never_throw_and_parsed_fields_lie_inside()
    {
        var random = new Random(7741);
        var buffer = new byte[12];
        for (var i = 0; i < 100_000; i++)
        {
            var length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer);
            var payload = buffer.AsSpan(0, length);
            if (Vp8PayloadDescriptor.TryParse(payload, out var d))
            {
                Assert.InRange(d.Length, 1, length);
                d.WritePictureId(payload, 5);
                d.WriteTl0PicIdx(payload, 6);
            }
        }
    }
}

public sealed class Vp8PictureRewriterTests
{
    private static byte[] Payload(int pictureId, int tl0) => [0x90, 0xC0, (byte)(0x80 | (pictureId >> 8)), (byte)pictureId, (byte)tl0, 0x00];

    private static (int PictureId, int Tl0) Rewrite(Vp8PictureRewriter rewriter, int pictureId, int tl0)
    {
        var payload = Payload(pictureId, tl0);
        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));
        rewriter.Rewrite(payload, d);
        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var back));
        return (back.PictureId, back.Tl0PicIdx);
    }

    [Theory]
    [InlineData(100, 10, 32760, 250)]   // forward jump of the source
    [InlineData(32760, 250, 3, 1)]      // source behind, output wraps
    [InlineData(5, 5, 5, 5)]            // same numbers on the other layer
    public void A_new_source_continues_from_the_last_picture_sent(int firstPicture, int firstTl0, int secondPicture, int secondTl0)
    {
        var rewriter = new Vp8PictureRewriter();
        var (p0, t0) = Rewrite(rewriter, firstPicture, firstTl0);
        var (p1, t1) = Rewrite(rewriter, firstPicture + 1, firstTl0 + 1);
        Assert.Equal(firstPicture, p0);
        Assert.Equal(firstTl0, t0);
        Assert.Equal((p0 + 1) & 0x7FFF, p1);

        rewriter.Resync();
        var (p2, t2) = Rewrite(rewriter, secondPicture, secondTl0);
        var (p2b, _) = Rewrite(rewriter, secondPicture, secondTl0); // second packet of the same picture
        var (p3, t3) = Rewrite(rewriter, (secondPicture + 1) & 0x7FFF, (secondTl0 + 1) & 0xFF);

        Assert.Equal((p1 + 1) & 0x7FFF, p2);
        Assert.Equal(p2, p2b);
        Assert.Equal((p2 + 1) & 0x7FFF, p3);
        Assert.Equal((t1 + 1) & 0xFF, t2);
        Assert.Equal((t2 + 1) & 0xFF, t3);
    }

    [Fact]
    public void A_picture_not_forwarded_leaves_no_gap_and_a_late_packet_of_an_old_one_changes_nothing()
    {
        var rewriter = new Vp8PictureRewriter();
        Rewrite(rewriter, 10, 1);
        Drop(rewriter, 11, 1); // a temporal layer the subscriber does not get
        Drop(rewriter, 12, 1);
        var (p13, _) = Rewrite(rewriter, 13, 2);
        Drop(rewriter, 9, 0); // older than what was sent: it left no gap
        var (p14, _) = Rewrite(rewriter, 14, 2);

        Assert.Equal(11, p13);
        Assert.Equal(12, p14);
    }

    private static void Drop(Vp8PictureRewriter rewriter, int pictureId, int tl0)
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(Payload(pictureId, tl0), out var d));
        rewriter.DropPicture(d);
    }

    [Fact]
    public void Late_packets_do_not_move_the_last_picture_back()
    {
        var rewriter = new Vp8PictureRewriter();
        Rewrite(rewriter, 10, 1);
        Rewrite(rewriter, 11, 2);
        Rewrite(rewriter, 9, 0); // reordered

        Assert.Equal(11, rewriter.LastPictureId);
        Assert.Equal(2, rewriter.LastTl0PicIdx);
    }
}
