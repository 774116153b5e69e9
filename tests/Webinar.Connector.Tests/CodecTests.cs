using Webinar.Connector.Codecs;
using Webinar.Connector.Media;
using Webinar.TestSupport.Media;

namespace Webinar.Connector.Tests;

/// <summary>libopus and libvpx through P/Invoke: what goes in comes out.</summary>
public sealed class CodecTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_440_hz_tone_encoded_and_decoded_by_opus_is_still_440_hz(int channels)
    {
        using var encoder = new OpusEncoder(channels, 64_000, dtx: false);
        using var decoder = new OpusDecoder(channels);
        var packet = new byte[1500];
        var decoded = new short[OpusDecoder.MaxFrameSamples * channels];
        var all = new List<short>();
        for (int n = 0; n < 50; n++)
        {
            var pcm = Signals.Tone(440, 48000, channels, OpusEncoder.FrameSamples, n * OpusEncoder.FrameSamples);
            int length = encoder.Encode(pcm, packet);
            Assert.InRange(length, 10, 1275);
            int frames = decoder.Decode(packet.AsSpan(0, length), decoded);
            Assert.Equal(OpusEncoder.FrameSamples, frames);
            all.AddRange(decoded.AsSpan(0, frames * channels));
        }

        var tail = all.ToArray().AsSpan(all.Count / 2);
        Assert.Equal(440, Signals.DominantFrequency(tail, channels, 48000), 10.0);
    }

    [Fact]
    public void Opus_refuses_a_corrupt_packet_without_crashing()
    {
        using var decoder = new OpusDecoder(2);
        var pcm = new short[OpusDecoder.MaxFrameSamples * 2];
        Assert.Equal(-1, decoder.Decode([0xFF, 0xFF, 0xFF], pcm));
    }

    [Fact]
    public void A_vp8_frame_packetized_depacketized_and_decoded_keeps_its_size_and_picture()
    {
        const int width = 640, height = 360;
        using var encoder = new Vp8Encoder(width, height, 30, 1500);
        using var decoder = new Vp8Decoder();
        var depacketizer = new Vp8Depacketizer();
        var source = Signals.Pattern(VideoFormat.Yuv420P, width, height, 0);
        byte[] output = [];
        int decodedWidth = 0, decodedHeight = 0, frames = 0;
        ushort sequence = 100;
        for (int n = 0; n < 10; n++)
        {
            encoder.Encode(source, n == 0, (frame, key) =>
            {
                Assert.Equal(n == 0, key);
                // Packetize as the publisher does: fragments of at most 1096 bytes.
                int chunk = 1096;
                var packet = new byte[1100];
                for (int offset = 0; offset < frame.Length; offset += chunk)
                {
                    int length = Math.Min(chunk, frame.Length - offset);
                    Vp8Rtp.WriteDescriptor(packet, offset == 0, (ushort)n);
                    frame.Slice(offset, length).CopyTo(packet.AsSpan(Vp8Rtp.DescriptorLength));
                    if (depacketizer.TryPush(packet.AsSpan(0, Vp8Rtp.DescriptorLength + length), sequence++, (uint)(n * 3000), offset + length >= frame.Length, out var whole))
                    {
                        Assert.True(decoder.TryDecode(whole, ref output, out decodedWidth, out decodedHeight));
                        frames++;
                    }
                }
            });
        }

        Assert.Equal(10, frames);
        Assert.Equal((width, height), (decodedWidth, decodedHeight));
        double error = 0;
        for (int i = 0; i < width * height; i++)
        {
            error += Math.Abs(output[i] - source[i]);
        }

        Assert.True(error / (width * height) < 6, $"mean luma error {error / (width * height):0.0}");
    }

    [Fact]
    public void A_frame_with_a_lost_packet_is_dropped_and_the_next_key_frame_resumes()
    {
        const int width = 320, height = 180;
        using var encoder = new Vp8Encoder(width, height, 30, 2000);
        var depacketizer = new Vp8Depacketizer();
        var complete = new List<bool>();
        ushort sequence = 0;
        for (int n = 0; n < 4; n++)
        {
            var source = Signals.Pattern(VideoFormat.Yuv420P, width, height, n);
            encoder.Encode(source, n is 0 or 3, (frame, key) =>
            {
                int half = frame.Length / 2;
                bool got = false;
                for (int part = 0; part < 2; part++)
                {
                    var packet = new byte[frame.Length];
                    int offset = part * half, length = part == 0 ? half : frame.Length - half;
                    Vp8Rtp.WriteDescriptor(packet, part == 0, (ushort)n);
                    frame.Slice(offset, length).CopyTo(packet.AsSpan(Vp8Rtp.DescriptorLength));
                    ushort number = sequence++;
                    if (n == 1 && part == 0)
                    {
                        continue; // lost
                    }

                    got |= depacketizer.TryPush(packet.AsSpan(0, Vp8Rtp.DescriptorLength + length), number, (uint)(n * 3000), part == 1, out _);
                }

                complete.Add(got);
            });
        }

        // Frame 1 lost a packet; frame 2 (a delta frame) cannot decode without it; frame 3 is a key frame.
        Assert.Equal([true, false, false, true], complete);
        Assert.False(depacketizer.NeedsKeyframe);
        Assert.Equal(2, depacketizer.Dropped);
    }
}
