using Webinar.Connector.Media;
using Webinar.TestSupport.Media;

namespace Webinar.Connector.Tests;

public sealed class VideoFormatsTests
{
    [Theory]
    [InlineData(VideoFormat.Rgb24)]
    [InlineData(VideoFormat.Argb32)]
    public void Bgr_pictures_survive_a_trip_through_yuv420p(VideoFormat format)
    {
        const int width = 64, height = 32;
        var source = Signals.Pattern(format, width, height, 3);
        var i420 = new byte[VideoFormats.I420Size(width, height)];
        var back = new byte[source.Length];
        VideoFormats.ToI420(source, format, width, height, i420);
        VideoFormats.FromI420(i420, width, height, format, back);
        int worst = 0;
        for (int i = 0; i < source.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(source[i] - back[i]));
        }

        // The bars are 8 pixels wide on even boundaries, so chroma subsampling loses nothing but rounding.
        Assert.True(worst <= 3, $"worst component error {worst}");
    }

    [Fact]
    public void Pure_colours_land_where_bt601_puts_them()
    {
        var red = new byte[] { 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255 };
        var i420 = new byte[VideoFormats.I420Size(2, 2)];
        VideoFormats.ToI420(red, VideoFormat.Rgb24, 2, 2, i420);
        Assert.Equal(82, i420[0]);   // Y
        Assert.Equal(90, i420[4]);   // U
        Assert.Equal(240, i420[5]);  // V
    }

    [Theory]
    [InlineData(VideoFormat.Yuv420P, 640, 360, 345_600)]
    [InlineData(VideoFormat.Rgb24, 640, 360, 691_200)]
    [InlineData(VideoFormat.Argb32, 1920, 1080, 8_294_400)]
    [InlineData(VideoFormat.Yuv420P, 3, 3, 9 + 8)]
    public void Buffer_sizes_follow_the_format(VideoFormat format, int width, int height, int size) =>
        Assert.Equal(size, VideoFormats.BufferSize(format, new VideoResolution(width, height)));
}
