using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading.Channels;
using Webinar.Connector.Codecs;
using Webinar.Connector.Media;
using Webinar.Connector.Sessions;

namespace Webinar.Connector.Subscribing;

/// <summary>How a <see cref="Subscriber"/> delivers media. Checked before the subscription starts.</summary>
public sealed record SubscriberSettings
{
    public static SubscriberSettings Default { get; } = new();

    /// <summary>The rate of delivered <see cref="AudioData"/> (decoded Opus is resampled to it).</summary>
    public int SampleRate { get; init; } = 48000;

    /// <summary>1 (mono) or 2 (stereo) for delivered audio.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>The format of delivered <see cref="VideoFrame"/>s.</summary>
    public VideoFormat Format { get; init; } = VideoFormat.Yuv420P;

    /// <summary>RTP packets waiting to be decoded before new ones are dropped (and counted).</summary>
    public int MaxQueuedPackets { get; init; } = 2048;

    /// <summary>
    /// How long video packets that arrive after a hole are held for the retransmission the client asks for (a NACK)
    /// before the hole is given up and the frame dropped; zero gives up at once. Only a loss costs this delay.
    /// </summary>
    public TimeSpan RepairWait { get; init; } = TimeSpan.FromMilliseconds(200);

    public void Validate()
    {
        MediaRules.CheckSampleRate(SampleRate, nameof(SampleRate));
        MediaRules.CheckChannels(Channels, nameof(Channels));
        MediaRules.CheckFormat(Format, nameof(Format));
        if (MaxQueuedPackets < 16)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedPackets), MaxQueuedPackets, "Queue at least 16 packets.");
        }

        if (RepairWait < TimeSpan.Zero || RepairWait > TimeSpan.FromSeconds(2))
        {
            throw new ArgumentOutOfRangeException(nameof(RepairWait), RepairWait, "Wait between 0 and 2 seconds for a lost packet.");
        }
    }
}

/// <summary>Called on the subscriber's decoding thread; the buffer is valid only during the call.</summary>
public delegate void AudioDataHandler(Subscriber subscriber, in AudioData audio);

/// <summary>Called on the subscriber's decoding thread; the buffer is valid only during the call.</summary>
public delegate void VideoFrameHandler(Subscriber subscriber, in VideoFrame frame);

/// <summary>
/// Your subscription to one remote stream: decodes its Opus (to <see cref="AudioData"/> at the settings' rate and
/// channels, 20 ms at a time) or VP8 (to <see cref="VideoFrame"/>s in the settings' format) on its own thread and
/// raises <see cref="AudioReceived"/> / <see cref="VideoReceived"/>. A lost video packet is asked for again (the
/// client's NACK) and waited for up to <see cref="SubscriberSettings.RepairWait"/>; one that does not come drops the
/// frame it belongs to and asks the sender for a key frame. Dispose it to unsubscribe.
/// </summary>
public sealed class Subscriber : IAsyncDisposable
{
    private readonly Channel<(byte[] Buffer, int Length)> _packets;
    private readonly Action<Subscriber> _onDispose;
    private readonly Action<uint> _requestKeyframe;
    private readonly Task _worker;
    private long _dropped;
    private long _audioFrames;
    private long _videoFrames;
    private long _repaired;
    private long _lost;
    private int _disposed;

    internal Subscriber(RemoteStream stream, SubscriberSettings settings, Action<uint> requestKeyframe, Action<Subscriber> onDispose)
    {
        Stream = stream;
        Settings = settings;
        _requestKeyframe = requestKeyframe;
        _onDispose = onDispose;
        _packets = Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(settings.MaxQueuedPackets)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _worker = Task.Factory.StartNew(stream.Kind == MediaKind.Audio ? RunAudio : (Func<Task>)RunVideo, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public RemoteStream Stream { get; }

    public SubscriberSettings Settings { get; }

    public event AudioDataHandler? AudioReceived;

    public event VideoFrameHandler? VideoReceived;

    /// <summary>Raised on the decoding thread when decoding fails for good (the subscription then ends).</summary>
    public event EventHandler<Exception>? Failed;

    /// <summary>Audio frames (per channel) delivered.</summary>
    public long AudioFramesDelivered => Interlocked.Read(ref _audioFrames);

    /// <summary>Video frames delivered.</summary>
    public long VideoFramesDelivered => Interlocked.Read(ref _videoFrames);

    /// <summary>Packets dropped because the decoder fell behind.</summary>
    public long PacketsDropped => Interlocked.Read(ref _dropped);

    /// <summary>Video packets that filled a hole in time (a retransmission or a late arrival).</summary>
    public long PacketsRepaired => Interlocked.Read(ref _repaired);

    /// <summary>Video sequence numbers given up on (never arrived within the repair wait).</summary>
    public long PacketsLost => Interlocked.Read(ref _lost);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _onDispose(this);
        _packets.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    /// <summary>Receive thread: copies the RTP packet and queues it for the decoding thread.</summary>
    internal void Enqueue(ReadOnlySpan<byte> rtpPacket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(rtpPacket.Length);
        rtpPacket.CopyTo(buffer);
        if (!_packets.Writer.TryWrite((buffer, rtpPacket.Length)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task RunAudio()
    {
        int channels = Settings.Channels;
        using var decoder = new OpusDecoder(2);
        var resampler = new AudioResampler(OpusEncoder.SampleRate, 2, Settings.SampleRate, channels);
        var decoded = new short[OpusDecoder.MaxFrameSamples * 2];
        var output = new short[resampler.MaxOutputFrames(OpusDecoder.MaxFrameSamples) * channels];
        ushort? expected = null;
        try
        {
            await foreach (var (buffer, length) in _packets.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    if (!TryReadRtp(buffer.AsSpan(0, length), out var payload, out ushort sequence, out _, out _, out _))
                    {
                        continue;
                    }

                    // Conceal up to three lost 20 ms packets so the audio keeps its timing.
                    if (expected is { } next)
                    {
                        int gap = (ushort)(sequence - next);
                        if (gap >= 0x8000)
                        {
                            continue;
                        }

                        for (int i = 0; i < Math.Min(gap, 3); i++)
                        {
                            Deliver(decoder.Decode([], decoded));
                        }
                    }

                    expected = (ushort)(sequence + 1);
                    if (!payload.IsEmpty)
                    {
                        Deliver(decoder.Decode(payload, decoded)); // an empty one is padding: no audio, no loss
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception e)
        {
            Failed?.Invoke(this, e);
        }

        void Deliver(int frames)
        {
            if (frames <= 0)
            {
                return;
            }

            int written = resampler.Process(decoded, frames, output);
            var audio = new AudioData(output.AsMemory(0, written * channels), Settings.SampleRate, channels, written);
            Interlocked.Add(ref _audioFrames, written);
            AudioReceived?.Invoke(this, audio);
        }
    }

    private async Task RunVideo()
    {
        using var decoder = new Vp8Decoder();
        using var reorder = new RtpReorderBuffer(Settings.RepairWait, TimeProvider.System);
        var depacketizer = new Vp8Depacketizer();
        var reader = _packets.Reader;
        byte[] i420 = [];
        byte[] converted = [];
        long lastKeyframeRequest = 0;
        try
        {
            while (true)
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Length < 4 || !reorder.Push(item.Buffer, item.Length, BinaryPrimitives.ReadUInt16BigEndian(item.Buffer.AsSpan(2))))
                    {
                        ArrayPool<byte>.Shared.Return(item.Buffer);
                    }
                }

                while (reorder.TryPop(out var buffer, out int length))
                {
                    try
                    {
                        Decode(buffer.AsSpan(0, length));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                Interlocked.Exchange(ref _repaired, reorder.Repaired);
                Interlocked.Exchange(ref _lost, reorder.Skipped);
                if (!await WaitForPacketsAsync(reader, reorder.TimeUntilReady()).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            Failed?.Invoke(this, e);
        }

        void Decode(ReadOnlySpan<byte> packet)
        {
            if (!TryReadRtp(packet, out var payload, out ushort sequence, out uint timestamp, out bool marker, out uint ssrc))
            {
                return;
            }

            if (payload.IsEmpty)
            {
                depacketizer.OnPadding(sequence);
                return;
            }

            if (depacketizer.TryPush(payload, sequence, timestamp, marker, out var frame))
            {
                if (decoder.TryDecode(frame, ref i420, out int width, out int height))
                {
                    var resolution = new VideoResolution(width, height);
                    ReadOnlyMemory<byte> pixels = i420.AsMemory(0, VideoFormats.I420Size(width, height));
                    if (Settings.Format != VideoFormat.Yuv420P)
                    {
                        int size = VideoFormats.BufferSize(Settings.Format, resolution);
                        if (converted.Length < size)
                        {
                            converted = new byte[size];
                        }

                        VideoFormats.FromI420(i420, width, height, Settings.Format, converted);
                        pixels = converted.AsMemory(0, size);
                    }

                    Interlocked.Increment(ref _videoFrames);
                    VideoReceived?.Invoke(this, new VideoFrame(pixels, resolution, Settings.Format));
                }
                else
                {
                    depacketizer.Resynchronize();
                }
            }

            if (depacketizer.NeedsKeyframe && Stopwatch.GetElapsedTime(lastKeyframeRequest) > TimeSpan.FromMilliseconds(500))
            {
                lastKeyframeRequest = Stopwatch.GetTimestamp();
                _requestKeyframe(ssrc);
            }
        }
    }

    /// <summary>
    /// Waits for the next packet, or until <paramref name="ready"/> (a held packet's wait ends) when something is held;
    /// false once the stream has ended.
    /// </summary>
    private static async ValueTask<bool> WaitForPacketsAsync(ChannelReader<(byte[] Buffer, int Length)> reader, TimeSpan? ready)
    {
        if (ready is null)
        {
            return await reader.WaitToReadAsync().ConfigureAwait(false);
        }

        if (ready.Value <= TimeSpan.Zero)
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(ready.Value);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return true;
        }
    }

    /// <summary>Reads an RTP header (RFC 3550: CSRCs, extension and padding skipped).</summary>
    private static bool TryReadRtp(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> payload, out ushort sequence, out uint timestamp, out bool marker, out uint ssrc)
    {
        payload = default;
        sequence = 0;
        timestamp = ssrc = 0;
        marker = false;
        if (packet.Length < 12 || (packet[0] >> 6) != 2)
        {
            return false;
        }

        int offset = 12 + (4 * (packet[0] & 0x0F));
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < offset + 4)
            {
                return false;
            }

            offset += 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]));
        }

        int end = packet.Length;
        if ((packet[0] & 0x20) != 0 && end > 0)
        {
            end -= packet[^1];
        }

        if (offset > end)
        {
            return false;
        }

        marker = (packet[1] & 0x80) != 0;
        sequence = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        timestamp = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        payload = packet[offset..end];
        return true;
    }
}
