using System.Diagnostics;
using Webinar.Connector.Codecs;
using Webinar.Connector.Media;

namespace Webinar.Benchmarks.Connector;

/// <summary>
/// <c>connector-cost [seconds]</c>: CPU of the connector's media work per stream, 640x360 at 30 frames/s and 48 kHz
/// stereo. Publishing: I420 input, VP8 encode (libvpx, realtime, 800 kbit/s), RFC 7741 packetisation, Opus encode
/// (libopus, 64 kbit/s, 20 ms). Subscribing: depacketisation, VP8 decode, Opus decode, conversion to the delivered
/// format (I420, and BGR24 as a second figure). Media is processed as fast as it goes, one thread, and the figure is
/// that thread's CPU time per second of media (= % of one core at real time). SRTP and the socket are left out: they
/// are in the forwarding benchmarks (about 2 µs per packet, ~150 packets/s here).
/// </summary>
internal static class ConnectorCostRun
{
    public const string Verb = "connector-cost";
    private const int Width = 640, Height = 360, Fps = 30;

    public static Task<int> RunAsync(string[] args)
    {
        int seconds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10;
        Console.WriteLine($"connector-cost: {seconds} s of 640x360@30 + 48 kHz stereo; load average {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} cores (shared)");

        // Prepare 30 distinct moving frames and 1 s of tone so generation is not measured.
        var frames = new byte[Fps][];
        for (int f = 0; f < Fps; f++)
        {
            frames[f] = Pattern(f);
        }

        var tone = new short[48000 * 2];
        for (int i = 0; i < 48000; i++)
        {
            tone[2 * i] = tone[(2 * i) + 1] = (short)(12000 * Math.Sin(2 * Math.PI * 440 * i / 48000));
        }

        // Publish: encode everything, keep the packets for the subscribe side.
        var videoPackets = new List<(byte[] Payload, ushort Sequence, uint Timestamp, bool Marker)>();
        var audioPackets = new List<byte[]>();
        var packet = new byte[1500];
        ushort sequence = 0;
        Warm();
        var publishCpu = ThreadCpu(() =>
        {
            using var vp8 = new Vp8Encoder(Width, Height, Fps, 800);
            using var opus = new OpusEncoder(2, 64_000, dtx: false);
            for (int f = 0; f < seconds * Fps; f++)
            {
                uint timestamp = (uint)(f * 3000);
                vp8.Encode(frames[f % Fps], f % (Fps * 10) == 0, (frame, _) =>
                {
                    int chunk = 1096, count = (frame.Length + chunk - 1) / chunk, size = (frame.Length + count - 1) / count;
                    for (int offset = 0, index = 0; offset < frame.Length; offset += size, index++)
                    {
                        int length = Math.Min(size, frame.Length - offset);
                        var payload = new byte[Vp8Rtp.DescriptorLength + length];
                        Vp8Rtp.WriteDescriptor(payload, index == 0, (ushort)f);
                        frame.Slice(offset, length).CopyTo(payload.AsSpan(Vp8Rtp.DescriptorLength));
                        videoPackets.Add((payload, sequence++, timestamp, offset + length >= frame.Length));
                    }
                });
            }

            for (int n = 0; n < seconds * 50; n++)
            {
                int length = opus.Encode(tone.AsSpan((n % 50) * 1920, 1920), packet);
                audioPackets.Add(packet[..length]);
            }
        });

        var subscribe = (VideoFormat format) => ThreadCpu(() =>
        {
            using var decoder = new Vp8Decoder();
            using var opus = new OpusDecoder(2);
            var depacketizer = new Vp8Depacketizer();
            byte[] i420 = [];
            var converted = new byte[Width * Height * 3];
            var pcm = new short[OpusDecoder.MaxFrameSamples * 2];
            var resampler = new AudioResampler(48000, 2, 48000, 2);
            var delivered = new short[pcm.Length];
            int decoded = 0;
            foreach (var (payload, seq, timestamp, marker) in videoPackets)
            {
                if (depacketizer.TryPush(payload, seq, timestamp, marker, out var frame) && decoder.TryDecode(frame, ref i420, out int w, out int h))
                {
                    decoded++;
                    if (format != VideoFormat.Yuv420P)
                    {
                        VideoFormats.FromI420(i420, w, h, format, converted);
                    }
                }
            }

            foreach (var audio in audioPackets)
            {
                int n = opus.Decode(audio, pcm);
                resampler.Process(pcm, n, delivered);
            }

            if (decoded != seconds * Fps)
            {
                throw new InvalidOperationException($"decoded {decoded} of {seconds * Fps} frames");
            }
        });

        var subscribeYuv = subscribe(VideoFormat.Yuv420P);
        var subscribeBgr = subscribe(VideoFormat.Rgb24);
        double bitrate = videoPackets.Sum(p => p.Payload.Length) * 8.0 / seconds / 1000;
        Console.WriteLine($"publish (VP8 encode + Opus encode):      {publishCpu.TotalMilliseconds / seconds,7:0.0} ms CPU per media second = {publishCpu.TotalMilliseconds / seconds / 10,5:0.0} % of a core ({bitrate:0} kbit/s video)");
        Console.WriteLine($"subscribe, YUV420P (VP8 + Opus decode):  {subscribeYuv.TotalMilliseconds / seconds,7:0.0} ms CPU per media second = {subscribeYuv.TotalMilliseconds / seconds / 10,5:0.0} % of a core");
        Console.WriteLine($"subscribe, RGB24 (+ BGR conversion):     {subscribeBgr.TotalMilliseconds / seconds,7:0.0} ms CPU per media second = {subscribeBgr.TotalMilliseconds / seconds / 10,5:0.0} % of a core");
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}; this process used {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s CPU");
        return Task.FromResult(0);
    }

    private static void Warm()
    {
        using var vp8 = new Vp8Encoder(64, 64, 30, 200);
        vp8.Encode(new byte[VideoFormats.I420Size(64, 64)], true, (_, _) => { });
    }

    /// <summary>CPU time of the calling thread spent in <paramref name="work"/>, run on a dedicated thread.</summary>
    private static TimeSpan ThreadCpu(Action work)
    {
        TimeSpan used = default;
        var thread = new Thread(() =>
        {
            var before = CurrentThreadCpu();
            work();
            used = CurrentThreadCpu() - before;
        });
        thread.Start();
        thread.Join();
        return used;
    }

    /// <summary>This thread's CPU time (user + system) from /proc/thread-self/stat, in clock ticks of 10 ms.</summary>
    private static TimeSpan CurrentThreadCpu()
    {
        var fields = File.ReadAllText("/proc/thread-self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static byte[] Pattern(int frame)
    {
        var bgr = new byte[Width * Height * 3];
        var random = new Random(frame);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                int o = ((y * Width) + x) * 3, bar = ((x + (frame * 8)) * 8 / Width) % 8;
                int noise = random.Next(-12, 12);
                bgr[o] = (byte)Math.Clamp(((bar & 1) != 0 ? 200 : 40) + noise, 0, 255);
                bgr[o + 1] = (byte)Math.Clamp(((bar & 2) != 0 ? 200 : 40) + noise, 0, 255);
                bgr[o + 2] = (byte)Math.Clamp(((bar & 4) != 0 ? 200 : 40) + (y * 100 / Height) + noise, 0, 255);
            }
        }

        var i420 = new byte[VideoFormats.I420Size(Width, Height)];
        VideoFormats.ToI420(bgr, VideoFormat.Rgb24, Width, Height, i420);
        return i420;
    }
}
