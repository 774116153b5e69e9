using Webinar.Connector.Media;
using Webinar.TestSupport.Media;

namespace Webinar.Connector.Tests;

public sealed class AudioResamplerTests
{
    [Theory]
    [InlineData(48000, 2, 16000, 1)]
    [InlineData(8000, 1, 48000, 2)]
    [InlineData(44100, 2, 48000, 2)]
    [InlineData(48000, 1, 44100, 1)]
    public void A_tone_keeps_its_frequency_and_the_output_keeps_its_rate(int inRate, int inChannels, int outRate, int outChannels)
    {
        var resampler = new AudioResampler(inRate, inChannels, outRate, outChannels);
        var output = new List<short>();
        int chunk = inRate / 50;
        for (int n = 0; n < 50; n++)
        {
            var input = Signals.Tone(440, inRate, inChannels, chunk, n * chunk);
            var buffer = new short[resampler.MaxOutputFrames(chunk) * outChannels];
            int frames = resampler.Process(input, chunk, buffer);
            output.AddRange(buffer.AsSpan(0, frames * outChannels));
        }

        int totalFrames = output.Count / outChannels;
        Assert.InRange(totalFrames, outRate - 2, outRate + 2);
        Assert.Equal(440, Signals.DominantFrequency(output.ToArray(), outChannels, outRate), 10.0);
    }
}
