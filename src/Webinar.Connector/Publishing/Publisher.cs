using System.Diagnostics;
using Webinar.Connector.Client;
using Webinar.Connector.Codecs;
using Webinar.Connector.Media;

namespace Webinar.Connector.Publishing;

/// <summary>
/// Your stream in the session: takes raw audio (<see cref="AddAudio"/>) and video (<see cref="AddVideo"/>), queues it,
/// and sends it in real time as Opus (20 ms packets) and VP8 from its own pacing thread. Before the first audio and
/// between gaps it sends silence; when no new frame is added it repeats the last one for
/// <see cref="PublisherSettings.RepeatLastFrameFor"/>, then sends black frames. A key frame goes out when the node
/// asks for one (PLI). Create it with <see cref="Sessions.Session.PublishAsync"/>; dispose it to stop publishing.
/// </summary>
public sealed class Publisher : IAsyncDisposable
{
    private const int MaxVideoPayload = 1100;
    private readonly WebRtcClient _client;
    private readonly ClientTrack? _audioTrack;
    private readonly ClientTrack? _videoTrack;
    private readonly Func<Publisher, ValueTask> _onDispose;
    private readonly Thread _thread;
    private readonly Lock _lock = new();

    // Audio queue at 48 kHz with the publisher's channel count (guarded by _lock).
    private readonly AudioResampler? _resampler;
    private readonly short[] _audioRing;
    private readonly short[] _resampled;
    private int _audioStart;
    private int _audioCount;

    // Video queue of I420 frames (guarded by _lock) and a pool of their buffers.
    private readonly Queue<byte[]> _videoQueue = new();
    private readonly Stack<byte[]> _videoPool = new();

    private volatile bool _stopping;
    private bool _drainedReported = true;
    private long _framesSent;
    private long _audioPacketsSent;
    private long _keyframesSent;
    private int _disposed;

    internal Publisher(WebRtcClient client, ClientTrack? audioTrack, ClientTrack? videoTrack, PublisherSettings settings, Func<Publisher, ValueTask> onDispose)
    {
        _client = client;
        _audioTrack = audioTrack;
        _videoTrack = videoTrack;
        Settings = settings;
        _onDispose = onDispose;
        int channels = settings.Channels;
        _audioRing = new short[(int)(settings.MaxAudioBuffer.TotalSeconds * OpusEncoder.SampleRate) * channels];
        if (settings.SampleRate != OpusEncoder.SampleRate)
        {
            _resampler = new AudioResampler(settings.SampleRate, channels, OpusEncoder.SampleRate, channels);
        }

        _resampled = new short[OpusEncoder.SampleRate * channels];
        _thread = new Thread(Run) { IsBackground = true, Name = "connector publisher" };
        _thread.Start();
    }

    public PublisherSettings Settings { get; }

    /// <summary>Raised on the pacing thread when a queue that held media has run empty (once until media is added again).</summary>
    public event EventHandler<MediaBufferStats>? MediaBufferDrained;

    /// <summary>Video frames encoded and sent.</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>Opus packets sent.</summary>
    public long AudioPacketsSent => Interlocked.Read(ref _audioPacketsSent);

    public long KeyframesSent => Interlocked.Read(ref _keyframesSent);

    /// <summary>
    /// Queues audio at the publisher's rate and channel count (see <see cref="MediaRules.CheckAudio"/>: anything else
    /// throws). False, with nothing queued, when the queue would exceed <see cref="PublisherSettings.MaxAudioBuffer"/>.
    /// </summary>
    public bool AddAudio(in AudioData audio)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_audioTrack is null)
        {
            throw new InvalidOperationException("This publisher was created without audio (PublisherSettings.HasAudio is false).");
        }

        MediaRules.CheckAudio(audio, Settings.SampleRate, Settings.Channels);
        int channels = Settings.Channels;
        var input = audio.Samples.Span[..(audio.Frames * channels)];
        lock (_lock)
        {
            int frames = audio.Frames;
            ReadOnlySpan<short> samples = input;
            if (_resampler is not null)
            {
                int max = _resampler.MaxOutputFrames(audio.Frames);
                var scratch = max * channels <= _resampled.Length ? _resampled : new short[max * channels];
                frames = _resampler.Process(input, audio.Frames, scratch);
                samples = scratch.AsSpan(0, frames * channels);
            }

            if ((_audioCount + samples.Length) > _audioRing.Length)
            {
                return false;
            }

            int end = (_audioStart + _audioCount) % _audioRing.Length;
            int first = Math.Min(samples.Length, _audioRing.Length - end);
            samples[..first].CopyTo(_audioRing.AsSpan(end));
            samples[first..].CopyTo(_audioRing);
            _audioCount += samples.Length;
            _drainedReported = false;
        }

        return true;
    }

    /// <summary>
    /// Queues one frame of the publisher's resolution and format (see <see cref="MediaRules.CheckVideo"/>: anything
    /// else throws). False, with nothing queued, when <see cref="PublisherSettings.MaxVideoFramesQueued"/> are waiting.
    /// </summary>
    public bool AddVideo(in VideoFrame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_videoTrack is null)
        {
            throw new InvalidOperationException("This publisher was created without video (PublisherSettings.HasVideo is false).");
        }

        MediaRules.CheckVideo(frame);
        if (frame.Resolution != Settings.Resolution || frame.Format != Settings.Format)
        {
            throw new ArgumentException(
                $"The publisher takes {Settings.Format} frames of {Settings.Resolution} (its settings) but was given {frame.Format} at {frame.Resolution}.", nameof(frame));
        }

        byte[] buffer;
        lock (_lock)
        {
            if (_videoQueue.Count >= Settings.MaxVideoFramesQueued)
            {
                return false;
            }

            buffer = _videoPool.Count > 0 ? _videoPool.Pop() : new byte[VideoFormats.I420Size(frame.Resolution.Width, frame.Resolution.Height)];
        }

        VideoFormats.ToI420(frame.Buffer.Span, frame.Format, frame.Resolution.Width, frame.Resolution.Height, buffer);
        lock (_lock)
        {
            _videoQueue.Enqueue(buffer);
            _drainedReported = false;
        }

        return true;
    }

    /// <summary>How much queued audio and video has not been sent yet.</summary>
    public MediaBufferStats GetMediaBufferStats()
    {
        lock (_lock)
        {
            return Stats();
        }
    }

    /// <summary>Drops everything queued (the last frame stays the one repeated).</summary>
    public void ClearMediaBuffers()
    {
        lock (_lock)
        {
            _audioStart = _audioCount = 0;
            while (_videoQueue.Count > 0)
            {
                _videoPool.Push(_videoQueue.Dequeue());
            }
        }
    }

    /// <summary>Stops sending and removes the stream from the session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping = true;
        await Task.Run(() => _thread.Join());
        await _onDispose(this);
    }

    private MediaBufferStats Stats() => new(
        _audioTrack is null ? null : new AudioBufferStats(TimeSpan.FromSeconds((double)_audioCount / Settings.Channels / OpusEncoder.SampleRate)),
        _videoTrack is null ? null : new VideoBufferStats(TimeSpan.FromSeconds((double)_videoQueue.Count / Settings.FramesPerSecond)));

    private void Run()
    {
        var settings = Settings;
        int channels = settings.Channels;
        using var opus = _audioTrack is null ? null : new OpusEncoder(channels, settings.AudioBitrate, settings.OpusDtx);
        using var vp8 = _videoTrack is null ? null : new Vp8Encoder(settings.Resolution.Width, settings.Resolution.Height, settings.FramesPerSecond, settings.VideoBitrateKbps);
        var pcm = new short[OpusEncoder.FrameSamples * channels];
        var packet = new byte[1500];
        var current = new byte[VideoFormats.I420Size(settings.Resolution.Width, settings.Resolution.Height)];
        VideoFormats.FillBlack(current, settings.Resolution.Width, settings.Resolution.Height);
        long frameTicks = Stopwatch.Frequency / settings.FramesPerSecond;
        long audioTicks = Stopwatch.Frequency / 50;
        long repeatTicks = (long)(settings.RepeatLastFrameFor.TotalSeconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        long nextAudio = start, nextVideo = start, lastNewFrame = start;
        uint audioTimestamp = (uint)Random.Shared.Next();
        uint videoTimestampBase = (uint)Random.Shared.Next();
        ushort pictureId = (ushort)Random.Shared.Next(0, 0x8000);
        long keyframeRequestsSeen = 0;
        bool wasConnected = false;
        var vp8Output = new Vp8FrameHandler((frame, key) =>
        {
            SendVp8(frame, key, pictureId, videoTimestampBase + (uint)((Stopwatch.GetTimestamp() - start) * 90_000 / Stopwatch.Frequency), packet);
            pictureId = (ushort)((pictureId + 1) & 0x7FFF);
        });

        while (!_stopping)
        {
            long now = Stopwatch.GetTimestamp();
            bool connected = _client.State == WebRtcClientState.Connected;
            if (opus is not null && now >= nextAudio)
            {
                nextAudio += audioTicks;
                TakeAudio(pcm);
                if (connected)
                {
                    int length = opus.Encode(pcm, packet);
                    if (_client.SendRtp(_audioTrack!, packet.AsSpan(0, length), marker: false, audioTimestamp))
                    {
                        Interlocked.Increment(ref _audioPacketsSent);
                    }
                }

                audioTimestamp += OpusEncoder.FrameSamples;
            }

            if (vp8 is not null && now >= nextVideo)
            {
                nextVideo += frameTicks;
                if (TakeFrame(ref current))
                {
                    lastNewFrame = now;
                }
                else if (now - lastNewFrame > repeatTicks)
                {
                    VideoFormats.FillBlack(current, settings.Resolution.Width, settings.Resolution.Height);
                }

                if (connected)
                {
                    long requests = _videoTrack!.KeyframeRequestsReceived;
                    bool forceKeyframe = !wasConnected || requests != keyframeRequestsSeen;
                    keyframeRequestsSeen = requests;
                    vp8.Encode(current, forceKeyframe, vp8Output);
                }
            }

            wasConnected = connected;
            ReportDrained();
            _client.ServiceRetransmissions();
            long next = Math.Min(opus is null ? long.MaxValue : nextAudio, vp8 is null ? long.MaxValue : nextVideo);
            long wait = (next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            if (wait > 0)
            {
                Thread.Sleep((int)Math.Min(wait, 20));
            }
            else if (wait < -1000)
            {
                // Far behind (the machine stalled): skip ahead rather than burst.
                nextAudio = nextVideo = Stopwatch.GetTimestamp();
            }
        }
    }

    private void SendVp8(ReadOnlySpan<byte> frame, bool keyframe, ushort pictureId, uint timestamp, byte[] packet)
    {
        int chunk = MaxVideoPayload - Vp8Rtp.DescriptorLength;
        int packets = (frame.Length + chunk - 1) / chunk;
        int size = (frame.Length + packets - 1) / packets;
        for (int offset = 0, index = 0; offset < frame.Length; offset += size, index++)
        {
            int length = Math.Min(size, frame.Length - offset);
            Vp8Rtp.WriteDescriptor(packet, index == 0, pictureId);
            frame.Slice(offset, length).CopyTo(packet.AsSpan(Vp8Rtp.DescriptorLength));
            _client.SendRtp(_videoTrack!, packet.AsSpan(0, Vp8Rtp.DescriptorLength + length), marker: offset + length >= frame.Length, timestamp);
        }

        Interlocked.Increment(ref _framesSent);
        if (keyframe)
        {
            Interlocked.Increment(ref _keyframesSent);
        }
    }

    private void TakeAudio(Span<short> pcm)
    {
        lock (_lock)
        {
            int take = Math.Min(pcm.Length, _audioCount);
            int first = Math.Min(take, _audioRing.Length - _audioStart);
            _audioRing.AsSpan(_audioStart, first).CopyTo(pcm);
            _audioRing.AsSpan(0, take - first).CopyTo(pcm[first..]);
            pcm[take..].Clear();
            _audioStart = (_audioStart + take) % _audioRing.Length;
            _audioCount -= take;
        }
    }

    private bool TakeFrame(ref byte[] current)
    {
        lock (_lock)
        {
            if (_videoQueue.Count == 0)
            {
                return false;
            }

            _videoPool.Push(current);
            current = _videoQueue.Dequeue();
            return true;
        }
    }

    private void ReportDrained()
    {
        MediaBufferStats stats;
        lock (_lock)
        {
            bool empty = (_audioTrack is null || _audioCount == 0) && (_videoTrack is null || _videoQueue.Count == 0);
            if (!empty || _drainedReported)
            {
                return;
            }

            _drainedReported = true;
            stats = Stats();
        }

        MediaBufferDrained?.Invoke(this, stats);
    }
}
