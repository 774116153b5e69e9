using System.Text;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Tests.Signaling;

public sealed class PreferredLayersFrameTests
{
    private static (bool Ok, ClientFrame? Frame, string Error) Parse(string json)
    {
        var ok = ClientFrameParser.TryParse(Encoding.UTF8.GetBytes(json), out var frame, out _, out var error);
        return (ok, frame, error);
    }

    [Fact]
    public void A_set_preferred_layers_frame_names_the_stream_and_the_layers()
    {
        var (ok, frame, error) = Parse("""{"type":"set-preferred-layers","id":7,"streamId":"abc-video-1","spatialLayer":0,"temporalLayer":1}""");

        Assert.True(ok, error);
        Assert.Equal(ClientFrameType.SetPreferredLayers, frame!.Type);
        Assert.Equal("abc-video-1", frame.StreamId);
        Assert.Equal(0, frame.SpatialLayer);
        Assert.Equal(1, frame.TemporalLayer);
        Assert.Equal("7", frame.IdJson);
    }

    [Fact]
    public void The_temporal_layer_is_optional()
    {
        var (ok, frame, _) = Parse("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":2}""");

        Assert.True(ok);
        Assert.Null(frame!.TemporalLayer);
    }

    [Theory]
    [InlineData("""{"type":"set-preferred-layers","spatialLayer":1}""", "streamId")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"","spatialLayer":1}""", "streamId")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s"}""", "spatialLayer")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":4}""", "spatialLayer")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":-1}""", "spatialLayer")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":"1"}""", "spatialLayer")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":1.5}""", "spatialLayer")]
    [InlineData("""{"type":"set-preferred-layers","streamId":"s","spatialLayer":1,"temporalLayer":9}""", "temporalLayer")]
    public void Bad_frames_are_refused_with_a_message_naming_the_field(string json, string field)
    {
        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.Contains(field, error, StringComparison.Ordinal);
    }
}
