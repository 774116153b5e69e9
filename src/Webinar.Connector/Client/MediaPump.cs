using System.Diagnostics;

namespace Webinar.Connector.Client;

/// <summary>
/// Paces synthetic media out of a <see cref="WebRtcClient"/> on its own thread, which becomes the client's sending
/// thread: one Opus packet every 20 ms on the audio track (50 packets/s) and one VP8 frame per frame interval on the
/// video track, sized for <see cref="VideoBitrate"/>. Frames missed while the thread was late are skipped, not burst.
/// </summary>
public sealed class MediaPump : IDisposable
{
    private readonly WebRtcClient _client;
    private readonly ClientTrack? _audio;
    private readonly ClientTrack? _video;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public MediaPump(WebRtcClient client, ClientTrack? audio, ClientTrack? video, int videoBitrate = 1_500_000, int framesPerSecond = 30)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(framesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(videoBitrate, 64 * 8 * framesPerSecond);
        _client = client;
        _audio = audio;
        _video = video;
        VideoBitrate = videoBitrate;
        FramesPerSecond = framesPerSecond;
        _thread = new Thread(static self => ((MediaPump)self!).Run()) { IsBackground = true, Name = "media-pump" };
    }

    public int VideoBitrate { get; }

    public int FramesPerSecond { get; }

    /// <summary>Delta-frame size: bitrate / 8 / fps.</summary>
    public int FrameBytes => VideoBitrate / 8 / FramesPerSecond;

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
        long frequency = Stopwatch.Frequency;
        long audioInterval = frequency / 50;
        long videoInterval = frequency / FramesPerSecond;
        uint timestampIncrement = (uint)(90000 / FramesPerSecond);
        long start = Stopwatch.GetTimestamp();
        long nextAudio = start;
        long nextVideo = start;
        while (!_stopping)
        {
            long now = Stopwatch.GetTimestamp();
            if (_audio is not null && now >= nextAudio)
            {
                _client.SendAudio(_audio);
                nextAudio += audioInterval;
                if (now - nextAudio > audioInterval)
                {
                    nextAudio = now + audioInterval;
                }
            }

            if (_video is not null && now >= nextVideo)
            {
                _client.SendVideoFrame(_video, FrameBytes, timestampIncrement: timestampIncrement);
                nextVideo += videoInterval;
                if (now - nextVideo > videoInterval)
                {
                    nextVideo = now + videoInterval;
                }
            }

            _client.ServiceRetransmissions();
            long next = Math.Min(_audio is null ? long.MaxValue : nextAudio, _video is null ? long.MaxValue : nextVideo);
            long waitMs = (next - Stopwatch.GetTimestamp()) * 1000 / frequency;
            Thread.Sleep((int)Math.Clamp(waitMs, 1, 20));
        }
    }
}
