using System.Collections.Concurrent;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Archives;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;

namespace Webinar.Sfu.Archives;

/// <summary>
/// The archives this node records: starts one when the control plane's ArchiveStarted names this node, attaches
/// new presenter tracks as they come, stops at ArchiveStopped, the maximum length or a write error, finishes the
/// file with ffmpeg off the media thread, stores it and reports back. At startup it finishes, as partial files,
/// the archives a previous run of the node left recording.
/// </summary>
internal sealed class ArchiveService : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, ArchiveRecording> _recordings = new();
    private readonly ConcurrentDictionary<Guid, byte> _finished = new();
    private readonly NodeMediaPlane _plane;
    private readonly IArchiveStorage _storage;
    private readonly IBus _bus;
    private readonly ArchiveNodeOptions _options;
    private readonly ArchiveFinisher _finisher;
    private readonly TimeProvider _time;
    private readonly ILogger<ArchiveService> _logger;
    private readonly string _nodeId;

    public ArchiveService(
        NodeMediaPlane plane,
        IArchiveStorage storage,
        IBus bus,
        IOptions<ArchiveNodeOptions> options,
        IOptions<ArchiveStorageOptions> storageOptions,
        IOptions<SfuOptions> sfu,
        TimeProvider time,
        ILogger<ArchiveService> logger)
    {
        _plane = plane;
        _storage = storage;
        _bus = bus;
        _options = options.Value;
        _finisher = new ArchiveFinisher(_options);
        _time = time;
        _logger = logger;
        _nodeId = sfu.Value.EffectiveNodeId;
        WorkRoot = _options.WorkDirectory ?? Path.Combine(storageOptions.Value.EffectiveDirectory, ".work", _nodeId);
    }

    public string WorkRoot { get; }

    /// <summary>Archives recording now.</summary>
    public int Recording => _recordings.Count;

    /// <summary>The recording archive of a meeting on this node, if any.</summary>
    public Guid? RecordingOf(Guid meetingId)
    {
        foreach (var r in _recordings.Values)
        {
            if (r.Started.MeetingId == meetingId && !r.IsStopped)
            {
                return r.ArchiveId;
            }
        }

        return null;
    }

    /// <summary>ArchiveStarted: record it when the meeting is this node's.</summary>
    public async Task StartAsync(ArchiveStarted started)
    {
        if (!string.Equals(started.NodeId, _nodeId, StringComparison.Ordinal) || _finished.ContainsKey(started.ArchiveId)
            || _recordings.ContainsKey(started.ArchiveId))
        {
            return;
        }

        var dir = Path.Combine(WorkRoot, started.ArchiveId.ToString("D"));
        try
        {
            Directory.CreateDirectory(dir);
            var free = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(dir))!).AvailableFreeSpace;
            if (free < _options.MinFreeBytes)
            {
                throw new ArchiveFailedException($"Not enough disk space to record ({free / (1024 * 1024)} MiB free, {_options.MinFreeBytes / (1024 * 1024)} MiB needed).");
            }

            await File.WriteAllTextAsync(Path.Combine(dir, ArchiveFiles.Started), JsonSerializer.Serialize(started)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArchiveFailedException)
        {
            _finished[started.ArchiveId] = 0;
            TryDelete(dir);
            Log.ArchiveFailed(_logger, started.ArchiveId, e.Message);
            await ReportAsync(new ArchiveFailed(started.ArchiveId, started.MeetingId, e.Message, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
            return;
        }

        var recording = new ArchiveRecording(started, dir, _time, _options.QueueCapacity, _options.FlushInterval);
        if (!_recordings.TryAdd(started.ArchiveId, recording))
        {
            return;
        }

        recording.StartWriter();
        Log.ArchiveRecording(_logger, started.ArchiveId, started.MeetingId, started.Settings.OutputMode.ToString());
        _plane.Node.Loop.Post(() => recording.Attach(_plane.FindRouter(started.MeetingId)));
    }

    /// <summary>
    /// Stops recording and finishes the archive in the background. <paramref name="reason"/> is reported as
    /// ArchiveStopped when the node decided the stop itself (<paramref name="report"/>).
    /// </summary>
    public Task StopAsync(Guid archiveId, string reason, bool report, DateTimeOffset? stoppedAt = null)
    {
        if (!_recordings.TryRemove(archiveId, out var recording))
        {
            return Task.CompletedTask;
        }

        _finished[archiveId] = 0;
        return FinishAsync(recording, reason, report, stoppedAt);
    }

    private async Task FinishAsync(ArchiveRecording recording, string reason, bool report, DateTimeOffset? stoppedAt)
    {
        var started = recording.Started;
        double duration = 0;
        try
        {
            duration = await _plane.Node.Loop.InvokeAsync(() =>
            {
                recording.Detach();
                return Math.Round(stoppedAt is { } at ? Math.Max(0, (at - recording.Started.StartedAt).TotalSeconds) : recording.Elapsed, 3);
            }).ConfigureAwait(false);
            Log.ArchiveStopping(_logger, started.ArchiveId, reason, recording.DroppedPackets);
            if (report)
            {
                await ReportAsync(new ArchiveStopped(started.ArchiveId, started.MeetingId, reason, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
            }

            var tracks = await recording.CompleteAsync().ConfigureAwait(false);
            if (recording.WriteError is { } writeError)
            {
                throw new ArchiveFailedException("Writing the recording failed: " + writeError);
            }

            await PublishFinishedAsync(started, recording.WorkDirectory, tracks, duration, partial: false).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var why = e is ArchiveFailedException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            Log.ArchiveFailed(_logger, started.ArchiveId, why);
            await ReportAsync(new ArchiveFailed(started.ArchiveId, started.MeetingId, why, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(recording.WorkDirectory);
        }
    }

    private async Task PublishFinishedAsync(ArchiveStarted started, string dir, IReadOnlyList<TrackInfo> tracks, double? duration, bool partial)
    {
        var finished = await _finisher.FinishAsync(started, dir, tracks, duration, CancellationToken.None).ConfigureAwait(false);
        long size;
        try
        {
            size = await _storage.PutAsync(started.ArchiveId, finished.Path, finished.FileName, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new ArchiveFailedException("Storing the archive failed: " + e.Message);
        }

        Log.ArchiveAvailable(_logger, started.ArchiveId, finished.DurationSeconds, size);
        await ReportAsync(new ArchiveAvailable(started.ArchiveId, started.MeetingId, finished.DurationSeconds, size, finished.FileName,
            finished.ContentType, partial, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ArchiveFailed(_logger, Guid.Empty, "recovery: " + e.Message);
        }

        using var timer = new PeriodicTimer(_options.CheckInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (var recording in _recordings.Values)
            {
                if (recording.WriteError is not null)
                {
                    _ = StopAsync(recording.ArchiveId, "WriteError", report: false);
                }
                else if (recording.Elapsed >= recording.Started.Settings.MaxDuration.TotalSeconds)
                {
                    _ = StopAsync(recording.ArchiveId, ArchiveStopReasons.MaxDuration, report: true);
                }
                else
                {
                    _plane.Node.Loop.Post(() => recording.Attach(_plane.FindRouter(recording.Started.MeetingId)));
                }
            }
        }
    }

    /// <summary>The node stops: every recording is finished as far as it got (the next start would recover it otherwise).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        var stopping = _recordings.Keys.Select(id => StopAsync(id, ArchiveStopReasons.NodeRestart, report: true)).ToArray();
        await Task.WhenAll(stopping).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Archives a previous run of this node left in its work directory: finished from what was recorded, marked partial.</summary>
    private async Task RecoverAsync()
    {
        if (!Directory.Exists(WorkRoot))
        {
            return;
        }

        foreach (var dir in Directory.GetDirectories(WorkRoot))
        {
            ArchiveStarted? started = null;
            try
            {
                started = JsonSerializer.Deserialize<ArchiveStarted>(await File.ReadAllTextAsync(Path.Combine(dir, ArchiveFiles.Started)).ConfigureAwait(false));
                if (started is null)
                {
                    continue;
                }

                _finished[started.ArchiveId] = 0;
                var tracksFile = Path.Combine(dir, ArchiveFiles.Tracks);
                var tracks = File.Exists(tracksFile)
                    ? JsonSerializer.Deserialize<List<TrackInfo>>(await File.ReadAllTextAsync(tracksFile).ConfigureAwait(false)) ?? []
                    : [];
                foreach (var t in tracks)
                {
                    t.StopOffset = null; // unknown: the track ran until the node stopped; its file says how long.
                }

                Log.ArchiveRecovering(_logger, started.ArchiveId, tracks.Count);
                await ReportAsync(new ArchiveStopped(started.ArchiveId, started.MeetingId, ArchiveStopReasons.NodeRestart, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
                await PublishFinishedAsync(started, dir, tracks, null, partial: true).ConfigureAwait(false);
            }
            catch (Exception e) when (started is not null)
            {
                var why = e is ArchiveFailedException ? "The node restarted mid-archive: " + e.Message : $"The node restarted mid-archive: {e.GetType().Name}: {e.Message}";
                Log.ArchiveFailed(_logger, started.ArchiveId, why);
                await ReportAsync(new ArchiveFailed(started.ArchiveId, started.MeetingId, why, _time.GetUtcNow(), _nodeId)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                Log.ArchiveFailed(_logger, Guid.Empty, $"unreadable archive work directory {dir}: {e.Message}");
            }
            finally
            {
                TryDelete(dir);
            }
        }
    }

    /// <summary>Publishes a report, retried while the broker is unavailable, so the control plane never keeps an archive Started.</summary>
    private async Task ReportAsync<T>(T message)
        where T : class
    {
        var deadline = _time.GetUtcNow() + _options.ReportRetryFor;
        while (true)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _bus.Publish(message, timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (_time.GetUtcNow() < deadline)
            {
                Log.ArchiveReportRetry(_logger, typeof(T).Name, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.ArchiveReportRetry(_logger, typeof(T).Name, "gave up: " + e.Message);
                return;
            }
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// The archive events this node obeys, from its own queue: starts and stops from the control plane; the recording
/// node's own reports (a stop of its own, a failure) only move the attendees' recording indicator, and only when that
/// node is the one recording (<see cref="ArchiveControl"/>), so no node can stop another's recording or its indicator.
/// </summary>
internal sealed class ArchiveEventsConsumer(ArchiveService archives, ArchiveControl control) :
    IConsumer<ArchiveStarted>,
    IConsumer<ArchiveStopped>,
    IConsumer<ArchiveFailed>
{
    public Task Consume(ConsumeContext<ArchiveStarted> context)
    {
        control.OnStarted(context.Message.MeetingId, context.Message.ArchiveId, context.Message.NodeId);
        return archives.StartAsync(context.Message);
    }

    public Task Consume(ConsumeContext<ArchiveFailed> context)
    {
        control.OnStopped(context.Message.MeetingId, context.Message.ArchiveId, "Failed", context.Message.NodeId);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ArchiveStopped> context)
    {
        var m = context.Message;
        control.OnStopped(m.MeetingId, m.ArchiveId, m.Reason, m.NodeId);
        if (m.NodeId is null)
        {
            // The control plane's stop. Finishing runs in the background: the queue is not held while ffmpeg works.
            _ = archives.StopAsync(m.ArchiveId, m.Reason, report: false, m.StoppedAt);
        }

        return Task.CompletedTask;
    }
}

internal static class ArchiveExtensions
{
    /// <summary>Recording at this node (with the real media plane only).</summary>
    public static IServiceCollection AddArchives(this IServiceCollection services)
    {
        services.AddOptions<ArchiveNodeOptions>().BindConfiguration(ArchiveNodeOptions.Section);
        services.AddOptions<ArchiveStorageOptions>().BindConfiguration(ArchiveStorageOptions.Section);
        services.AddSingleton<IArchiveStorage>(sp => new DirectoryArchiveStorage(sp.GetRequiredService<IOptions<ArchiveStorageOptions>>().Value.EffectiveDirectory));
        services.AddSingleton<ArchiveService>();
        services.AddHostedService(sp => sp.GetRequiredService<ArchiveService>());
        return services;
    }
}
