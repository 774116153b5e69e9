using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Webinar.Contracts.Archives;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Archives;

/// <summary>One track of an archive as recorded: whose, which kind, its file and when it ran (seconds from the archive's start).</summary>
internal sealed record TrackInfo(int Index, Guid AttendeeId, string ExternalUserId, string Kind, string Codec, string File, double StartOffset)
{
    public double? StopOffset { get; set; }

    /// <summary>When the track's first packet reached the recorder, seconds into the archive.</summary>
    public double? FirstFrameOffset { get; set; }

    /// <summary>The sender's wallclock (NTP seconds) of the first packet's RTP timestamp, from the stream's sender report.</summary>
    public double? FirstFrameWallclock { get; set; }
}

/// <summary>
/// One archive being recorded on this node. On the media loop it attaches a <see cref="Consumer"/> to every
/// presenter track of the primary's router (so the recorder gets rewritten RTP starting at a keyframe, as a
/// subscriber would); each consumer's transport hands the packet to a lock-free queue, drained by a writer task
/// that depacketizes into one file per track. The media thread never touches a file.
/// </summary>
internal sealed class ArchiveRecording
{
    private readonly ConcurrentQueue<RecordedPacket> _queue = new();
    private readonly Dictionary<Producer, Track> _byProducer = [];
    private readonly List<TrackInfo> _tracks = [];
    private readonly TimeProvider _time;
    private readonly int _queueCapacity;
    private readonly TimeSpan _flushInterval;
    private int _queued;
    private long _dropped;
    private volatile bool _stopped;
    private Task? _writer;
    private volatile string? _writeError;
    private bool _tracksChanged;

    public ArchiveRecording(ArchiveStarted started, string workDirectory, TimeProvider time, int queueCapacity, TimeSpan flushInterval)
    {
        Started = started;
        WorkDirectory = workDirectory;
        _time = time;
        _queueCapacity = queueCapacity;
        _flushInterval = flushInterval;
    }

    public ArchiveStarted Started { get; }

    public Guid ArchiveId => Started.ArchiveId;

    public string WorkDirectory { get; }

    /// <summary>Packets the writer could not keep up with (the queue was full); each is lost to the archive only.</summary>
    public long DroppedPackets => Interlocked.Read(ref _dropped);

    /// <summary>Why writing failed (disk full, ...), or null.</summary>
    public string? WriteError => _writeError;

    public bool IsStopped => _stopped;

    /// <summary>
    /// Seconds since the archive started, by the control plane's StartedAt (the time the platform's call was
    /// answered): the archive covers StartedAt to StoppedAt, whatever the bus's delivery delays.
    /// </summary>
    public double Elapsed => Math.Max(0, (_time.GetUtcNow() - Started.StartedAt).TotalSeconds);

    public void StartWriter() => _writer = Task.Factory.StartNew(WriteLoopAsync, TaskCreationOptions.LongRunning).Unwrap();

    /// <summary>Loop thread: records every track of the router not yet recorded. Safe to call again and again.</summary>
    public void Attach(Router? router)
    {
        if (_stopped || router is null)
        {
            return;
        }

        foreach (var track in _byProducer.Values)
        {
            if (track.ResolveWallclock())
            {
                _tracksChanged = true;
            }
        }

        foreach (var producer in router.OwnProducers)
        {
            if (producer.IsClosed || _byProducer.ContainsKey(producer) || !Wanted(producer))
            {
                continue;
            }

            var index = _tracks.Count;
            var video = producer.Kind == MediaKind.Video;
            var file = $"track-{index}-{(video ? "video.ivf" : "audio.ogg")}";
            var info = new TrackInfo(index, producer.Owner.AttendeeId, producer.Owner.ExternalUserId, video ? "video" : "audio",
                producer.Codec.Name.ToUpperInvariant(), file, Math.Round(Elapsed, 3));
            var track = new Track(this, info, producer.Codec.Channels ?? 2);
            var consumer = new Consumer(producer, track, "archive", (uint)Random.Shared.Next(), (byte)producer.Codec.PayloadType,
                new RtpExtensionIdMap(), _time, waitForKeyframe: true);
            track.Consumer = consumer;
            _byProducer[producer] = track;
            lock (_tracks)
            {
                _tracks.Add(info);
            }

            producer.Attach(consumer);
            consumer.OnTransportConnected();
            _tracksChanged = true;
        }

        if (_tracksChanged)
        {
            _tracksChanged = false;
            SaveTracks();
        }
    }

    /// <summary>Loop thread: stops taking packets; every open track ends now.</summary>
    public void Detach()
    {
        _stopped = true;
        foreach (var track in _byProducer.Values)
        {
            track.ResolveWallclock();
            track.End();
            track.Consumer?.Dispose();
        }

        _byProducer.Clear();
        SaveTracks();
    }

    /// <summary>After <see cref="Detach"/>: waits for the writer to drain the queue and close every file.</summary>
    public async Task<IReadOnlyList<TrackInfo>> CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.ConfigureAwait(false);
        }

        lock (_tracks)
        {
            return [.. _tracks];
        }
    }

    private bool Wanted(Producer producer)
    {
        var settings = Started.Settings;
        return producer.Kind == MediaKind.Video
            ? settings.HasVideo && producer.Codec.Name.Equals("VP8", StringComparison.OrdinalIgnoreCase)
            : settings.HasAudio && producer.Codec.Name.Equals("opus", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Keeps tracks.json current, so a restarted node can finish what was recorded.</summary>
    private void SaveTracks()
    {
        try
        {
            TrackInfo[] snapshot;
            lock (_tracks)
            {
                snapshot = [.. _tracks];
            }

            File.WriteAllText(Path.Combine(WorkDirectory, ArchiveFiles.Tracks), JsonSerializer.Serialize(snapshot));
        }
        catch (IOException e)
        {
            _writeError ??= e.Message;
        }
    }

    private void Enqueue(Track track, Span<byte> packet)
    {
        if (_stopped || Interlocked.Increment(ref _queued) > _queueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        var copy = ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(copy);
        _queue.Enqueue(new RecordedPacket(track, copy, packet.Length));
    }

    private async Task WriteLoopAsync()
    {
        var lastFlush = _time.GetTimestamp();
        while (true)
        {
            var drained = false;
            while (_queue.TryDequeue(out var item))
            {
                drained = true;
                Interlocked.Decrement(ref _queued);
                try
                {
                    if (_writeError is null)
                    {
                        item.Track.Write(item.Buffer.AsSpan(0, item.Length));
                    }
                }
                catch (IOException e)
                {
                    _writeError = e.Message;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                }
            }

            if (_stopped && !drained && _queue.IsEmpty)
            {
                break;
            }

            if (_writeError is null && _time.GetElapsedTime(lastFlush) >= _flushInterval)
            {
                lastFlush = _time.GetTimestamp();
                Checkpoint();
            }

            if (!drained)
            {
                await Task.Delay(10).ConfigureAwait(false);
            }
        }

        foreach (var track in _trackWriters())
        {
            try
            {
                track.Close();
            }
            catch (IOException e)
            {
                _writeError ??= e.Message;
            }
        }
    }

    private readonly List<Track> _allTracks = [];

    /// <summary>Writer thread: every open file to the operating system, so a killed node leaves readable tracks.</summary>
    private void Checkpoint()
    {
        foreach (var track in _trackWriters())
        {
            try
            {
                track.Checkpoint();
            }
            catch (IOException e)
            {
                _writeError ??= e.Message;
            }
        }
    }

    private List<Track> _trackWriters()
    {
        lock (_allTracks)
        {
            return [.. _allTracks];
        }
    }

    private readonly record struct RecordedPacket(Track Track, byte[] Buffer, int Length);

    /// <summary>One recorded track: the consumer's transport on the loop side, its file writer on the writer side.</summary>
    private sealed class Track : IConsumerTransport
    {
        private readonly ArchiveRecording _owner;
        private readonly byte[] _sendBuffer = new byte[MediaLoop.MaxDatagram + Webinar.Media.Srtp.SrtpSession.MaxOverhead];
        private readonly int _channels;
        private TrackFileWriter? _writer;
        private bool _closed;
        private uint? _firstTimestamp;

        public Track(ArchiveRecording owner, TrackInfo info, int channels)
        {
            _owner = owner;
            Info = info;
            _channels = channels;
            lock (owner._allTracks)
            {
                owner._allTracks.Add(this);
            }
        }

        public TrackInfo Info { get; }

        public Consumer? Consumer { get; set; }

        public bool IsConnected => true;

        // A recorder never sends NACKs, so it never asks for a resend; the default budget is never used.
        public RetransmissionOptions Retransmission { get; } = new();

        public Span<byte> SendBuffer => _sendBuffer;

        public void SendRtp(Span<byte> buffer, int length)
        {
            if (_firstTimestamp is null && length >= 12)
            {
                _firstTimestamp = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
                Info.FirstFrameOffset = Math.Round(_owner.Elapsed, 3);
            }

            _owner.Enqueue(this, buffer[..length]);
        }

        /// <summary>
        /// Loop thread: once the first packet was sent and the producer has a sender report, the sender's wallclock
        /// of that packet (the report's RTP time mapped into the recorded stream's space). True when it was found now.
        /// </summary>
        public bool ResolveWallclock()
        {
            if (Info.FirstFrameWallclock is not null || _firstTimestamp is not { } first || Consumer is not { } consumer || !consumer.Producer.HasSenderReport)
            {
                return false;
            }

            var producer = consumer.Producer;
            var clock = new SenderReportClock(producer.LastSenderReportNtp, consumer.MapTimestamp(producer.LastSenderReportRtp), producer.Codec.ClockRate);
            Info.FirstFrameWallclock = clock.WallclockOf(first);
            return true;
        }

        /// <summary>The producer ended (the presenter unpublished or left): the track stops here.</summary>
        public void OnConsumerClosed(Consumer consumer)
        {
            ResolveWallclock();
            End();
            _owner._byProducer.Remove(consumer.Producer);
            _owner.SaveTracks();
        }

        public void End() => Info.StopOffset ??= Math.Round(_owner.Elapsed, 3);

        /// <summary>Writer thread.</summary>
        public void Write(Span<byte> packet)
        {
            if (_closed)
            {
                return;
            }

            _writer ??= Open();
            _writer.Write(packet);
        }

        /// <summary>Writer thread.</summary>
        public void Checkpoint() => _writer?.Checkpoint();

        /// <summary>Writer thread, after the last packet.</summary>
        public void Close()
        {
            _closed = true;
            _writer?.Dispose();
            _writer = null;
        }

        private TrackFileWriter Open()
        {
            var stream = new FileStream(Path.Combine(_owner.WorkDirectory, Info.File), FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
            return Info.Kind == "video" ? new Vp8IvfWriter(stream) : new OggOpusWriter(stream, _channels);
        }
    }
}

/// <summary>The files of an archive's work directory.</summary>
internal static class ArchiveFiles
{
    /// <summary>The ArchiveStarted message (what to record).</summary>
    public const string Started = "archive.json";

    /// <summary>The tracks recorded so far.</summary>
    public const string Tracks = "tracks.json";
}
