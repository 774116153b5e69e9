using System.Buffers.Binary;
using System.Diagnostics;
using Webinar.Connector.Client;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// A send timestamp in the last 16 bytes of an RTP payload: "WBST", a 32-bit tag, the sender's
/// <see cref="Stopwatch"/> ticks. Nodes never touch payloads, so a subscriber in the same process reads one-way latency.
/// </summary>
internal static class MediaStamp
{
    public const int Length = 16;
    private const uint Magic = 0x57425354; // "WBST"

    public static void Write(Span<byte> payload, int tag, long ticks)
    {
        var stamp = payload[^Length..];
        BinaryPrimitives.WriteUInt32BigEndian(stamp, Magic);
        BinaryPrimitives.WriteInt32BigEndian(stamp[4..], tag);
        BinaryPrimitives.WriteInt64BigEndian(stamp[8..], ticks);
    }

    /// <summary>Reads the stamp at the end of a plain RTP packet (our packets carry no RTP padding).</summary>
    public static bool TryRead(ReadOnlySpan<byte> rtpPacket, out int tag, out long ticks)
    {
        tag = 0;
        ticks = 0;
        if (rtpPacket.Length < 12 + Length || (rtpPacket[0] & 0x20) != 0)
        {
            return false;
        }

        var stamp = rtpPacket[^Length..];
        if (BinaryPrimitives.ReadUInt32BigEndian(stamp) != Magic)
        {
            return false;
        }

        tag = BinaryPrimitives.ReadInt32BigEndian(stamp[4..]);
        ticks = BinaryPrimitives.ReadInt64BigEndian(stamp[8..]);
        return true;
    }
}

/// <summary>
/// A sending thread for one client: stamped Opus-sized audio packets (100 bytes) every <c>audioInterval</c>, tagged
/// <see cref="Tag"/>, plus synthetic VP8 at <c>videoBitrate</c> (30 fps) when a video track is given. Sends fail quietly
/// (and are retried at the next interval) until SRTP is ready.
/// </summary>
internal sealed class StampedPump : IDisposable
{
    private readonly WebRtcClient _client;
    private readonly ClientTrack _audio;
    private readonly ClientTrack? _video;
    private readonly TimeSpan _audioInterval;
    private readonly int _frameBytes;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public StampedPump(WebRtcClient client, ClientTrack audio, ClientTrack? video, TimeSpan audioInterval, int videoBitrate, int tag)
    {
        _client = client;
        _audio = audio;
        _video = video;
        _audioInterval = audioInterval;
        _frameBytes = videoBitrate / 8 / 30;
        Tag = tag;
        _thread = new Thread(static self => ((StampedPump)self!).Run()) { IsBackground = true, Name = "stamped-pump" };
    }

    public int Tag { get; }

    /// <summary>Stamped packets sent so far.</summary>
    public long StampedSent => Volatile.Read(ref _stampedSent);

    private long _stampedSent;

    public void Start() => _thread.Start(this);

    public void Stop()
    {
        _stopping = true;
        if (_thread.IsAlive && _thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }
    }

    public void Dispose() => Stop();

    private void Run()
    {
        var payload = new byte[100];
        long audioTicks = (long)(_audioInterval.TotalSeconds * Stopwatch.Frequency);
        long videoTicks = Stopwatch.Frequency / 30;
        long nextAudio = Stopwatch.GetTimestamp();
        long nextVideo = nextAudio;
        uint audioTimestamp = (uint)Random.Shared.Next();
        while (!_stopping)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= nextAudio)
            {
                MediaStamp.Write(payload, Tag, Stopwatch.GetTimestamp());
                if (_client.SendRtp(_audio, payload, marker: false, audioTimestamp))
                {
                    _stampedSent++;
                }

                audioTimestamp += 960;
                nextAudio = Math.Max(nextAudio + audioTicks, now);
            }

            if (_video is not null && now >= nextVideo)
            {
                _client.SendVideoFrame(_video, _frameBytes);
                nextVideo = Math.Max(nextVideo + videoTicks, now);
            }

            long wait = Math.Min(nextAudio, _video is null ? long.MaxValue : nextVideo) - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                Thread.Sleep(1);
            }
            else if (wait > 0)
            {
                Thread.SpinWait(50);
            }
        }
    }
}

/// <summary>Percentiles of a sample (sorted copy), in milliseconds from Stopwatch ticks.</summary>
internal static class Percentiles
{
    /// <summary>The median (the mean of the two middle values for an even count), in milliseconds.</summary>
    public static double MedianMillis(List<long> ticks)
    {
        if (ticks.Count == 0)
        {
            return double.NaN;
        }

        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        int middle = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
        return median * 1000.0 / Stopwatch.Frequency;
    }

    public static double Millis(List<long> ticks, double percentile)
    {
        if (ticks.Count == 0)
        {
            return double.NaN;
        }

        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        int index = (int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1000.0 / Stopwatch.Frequency;
    }
}
