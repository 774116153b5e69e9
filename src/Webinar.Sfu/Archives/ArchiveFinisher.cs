using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Webinar.Contracts.Archives;

namespace Webinar.Sfu.Archives;

/// <summary>The finished file of an archive, still in its work directory.</summary>
internal sealed record FinishedArchive(string Path, string FileName, string ContentType, double DurationSeconds);

/// <summary>An archive that cannot be produced; <see cref="Exception.Message"/> is the reason the API shows.</summary>
internal sealed class ArchiveFailedException(string reason) : Exception(reason);

/// <summary>
/// Makes an archive's file from its recorded tracks with ffmpeg: <c>Individual</c> remuxes each track to WebM
/// (no transcoding) and zips them with a manifest; <c>Composed</c> lays the video tracks out on one canvas (each
/// in its cell from its start to its stop offset) and mixes the audio tracks, into one H.264/AAC MP4.
/// </summary>
internal sealed class ArchiveFinisher(ArchiveNodeOptions options)
{
    private static readonly JsonSerializerOptions ManifestJson = new() { WriteIndented = true };

    public async Task<FinishedArchive> FinishAsync(ArchiveStarted archive, string workDirectory, IReadOnlyList<TrackInfo> recorded, double? knownDuration, CancellationToken ct)
    {
        var tracks = recorded.Where(t => File.Exists(Path.Combine(workDirectory, t.File)) && new FileInfo(Path.Combine(workDirectory, t.File)).Length > 64).ToList();
        var starts = ArchiveSync.StartOffsets(tracks);
        foreach (var t in tracks)
        {
            var probed = starts[t.Index] + await ProbeDurationAsync(Path.Combine(workDirectory, t.File), ct).ConfigureAwait(false);
            t.StopOffset ??= probed;
            if (knownDuration is { } known)
            {
                // The node heard of the stop after StoppedAt: what it recorded past the archive's end is not part of it.
                t.StopOffset = Math.Min(known, t.StopOffset.Value);
            }
        }

        if (tracks.Count == 0 && knownDuration is null)
        {
            throw new ArchiveFailedException("Nothing was recorded before the node stopped.");
        }

        var duration = knownDuration ?? tracks.Max(t => t.StopOffset ?? 0);

        return archive.Settings.OutputMode == ArchiveOutputMode.Individual
            ? await IndividualAsync(archive, workDirectory, tracks, starts, duration, ct).ConfigureAwait(false)
            : await ComposedAsync(archive, workDirectory, tracks, starts, duration, ct).ConfigureAwait(false);
    }

    private async Task<FinishedArchive> IndividualAsync(ArchiveStarted archive, string dir, List<TrackInfo> tracks, Dictionary<int, double> starts, double duration, CancellationToken ct)
    {
        var files = new List<object>();
        var zipPath = Path.Combine(dir, "archive.zip");
        foreach (var t in tracks)
        {
            var webm = $"{t.Index:00}-{Sanitize(t.ExternalUserId)}-{t.Kind}.webm";
            var length = Seconds(Math.Max(0, (t.StopOffset ?? duration) - starts[t.Index]));
            await RunAsync(options.FfmpegPath, ["-y", "-v", "error", "-i", Path.Combine(dir, t.File), "-c", "copy", "-t", length, Path.Combine(dir, webm)], ct).ConfigureAwait(false);
            // StartOffset: where the file's first frame belongs on the archive's timeline, in sync with the attendee's other tracks.
            files.Add(new { FileName = webm, t.AttendeeId, t.ExternalUserId, Kind = t.Kind, t.Codec, StartOffset = starts[t.Index], t.StopOffset });
        }

        await using (var zip = new FileStream(zipPath, FileMode.Create))
        using (var archiveZip = new ZipArchive(zip, ZipArchiveMode.Create))
        {
            var manifest = new
            {
                archive.ArchiveId,
                archive.MeetingId,
                archive.Settings.Name,
                CreatedAt = archive.StartedAt,
                Duration = duration,
                Files = files,
            };
            var entry = archiveZip.CreateEntry("manifest.json", CompressionLevel.Optimal);
            await using (var s = entry.Open())
            {
                await JsonSerializer.SerializeAsync(s, manifest, ManifestJson, ct).ConfigureAwait(false);
            }

            foreach (var t in tracks)
            {
                var webm = $"{t.Index:00}-{Sanitize(t.ExternalUserId)}-{t.Kind}.webm";
                archiveZip.CreateEntryFromFile(Path.Combine(dir, webm), webm, CompressionLevel.NoCompression);
            }
        }

        return new FinishedArchive(zipPath, "archive.zip", "application/zip", duration);
    }

    private async Task<FinishedArchive> ComposedAsync(ArchiveStarted archive, string dir, List<TrackInfo> tracks, Dictionary<int, double> starts, double duration, CancellationToken ct)
    {
        var s = archive.Settings;
        var output = Path.Combine(dir, "archive.mp4");
        var args = new List<string> { "-y", "-v", "error" };
        var video = s.HasVideo ? tracks.Where(t => t.Kind == "video").ToList() : [];
        var audio = s.HasAudio ? tracks.Where(t => t.Kind == "audio").ToList() : [];
        var inputs = video.Concat(audio).ToList();
        foreach (var t in inputs)
        {
            args.AddRange(["-i", Path.Combine(dir, t.File)]);
        }

        var d = duration.ToString("0.###", CultureInfo.InvariantCulture);
        var graph = new StringBuilder();
        if (s.HasVideo)
        {
            graph.Append(CultureInfo.InvariantCulture, $"color=c=black:s={s.Width}x{s.Height}:r=30:d={d}[base0];");
            var cells = ArchiveLayouts.Cells(s.Layout, video.Count, s.Width, s.Height);
            for (var i = 0; i < video.Count; i++)
            {
                var (x, y, w, h) = cells[i];
                var start = Seconds(starts[video[i].Index]);
                var stop = Seconds(video[i].StopOffset ?? duration);
                graph.Append(CultureInfo.InvariantCulture,
                    $"[{i}:v]setpts=PTS-STARTPTS+{start}/TB,scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1[v{i}];");
                graph.Append(CultureInfo.InvariantCulture,
                    $"[base{i}][v{i}]overlay={x}:{y}:eof_action=pass:enable='between(t,{start},{stop})'[base{i + 1}];");
            }

            graph.Append(CultureInfo.InvariantCulture, $"[base{video.Count}]format=yuv420p[vout];");
        }

        if (s.HasAudio)
        {
            if (audio.Count == 0)
            {
                graph.Append(CultureInfo.InvariantCulture, $"anullsrc=r=48000:cl=stereo:d={d}[aout];");
            }
            else
            {
                for (var j = 0; j < audio.Count; j++)
                {
                    var delay = (long)(starts[audio[j].Index] * 1000);
                    graph.Append(CultureInfo.InvariantCulture,
                        $"[{video.Count + j}:a]aresample=48000:async=1:first_pts=0,adelay=delays={delay}:all=1[a{j}];");
                }

                for (var j = 0; j < audio.Count; j++)
                {
                    graph.Append(CultureInfo.InvariantCulture, $"[a{j}]");
                }

                graph.Append(CultureInfo.InvariantCulture, $"amix=inputs={audio.Count}:duration=longest:normalize=0,apad[aout];");
            }
        }

        args.AddRange(["-filter_complex", graph.ToString().TrimEnd(';')]);
        if (s.HasVideo)
        {
            args.AddRange(["-map", "[vout]", "-c:v", "libx264", "-preset", options.X264Preset, "-crf", "23", "-pix_fmt", "yuv420p", "-r", "30"]);
        }

        if (s.HasAudio)
        {
            args.AddRange(["-map", "[aout]", "-c:a", "aac", "-b:a", "128k", "-ar", "48000"]);
        }

        args.AddRange(["-t", d, "-movflags", "+faststart", "-threads", options.FfmpegThreads.ToString(CultureInfo.InvariantCulture), output]);
        await RunAsync(options.FfmpegPath, args, ct).ConfigureAwait(false);
        return new FinishedArchive(output, "archive.mp4", "video/mp4", duration);
    }

    private async Task<double> ProbeDurationAsync(string file, CancellationToken ct)
    {
        var text = await RunAsync(options.FfprobePath, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file], ct).ConfigureAwait(false);
        return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : 0;
    }

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray();
        return new string(chars);
    }

    /// <summary>Runs a tool; returns its standard output; a failure (exit code, missing binary, timeout) is an <see cref="ArchiveFailedException"/>.</summary>
    private async Task<string> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ArchiveFailedException($"{Path.GetFileName(file)} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ArchiveFailedException($"{Path.GetFileName(file)} could not be started: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.FinishTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new ArchiveFailedException($"{Path.GetFileName(file)} did not finish within {options.FinishTimeout.TotalSeconds:0} s.");
            }

            var error = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                var tail = error.Length > 400 ? error[^400..] : error;
                throw new ArchiveFailedException($"{Path.GetFileName(file)} failed (exit {process.ExitCode}): {tail.Trim()}");
            }

            return await stdout.ConfigureAwait(false);
        }
    }
}

/// <summary>Where each video track goes on a composed archive's canvas.</summary>
internal static class ArchiveLayouts
{
    /// <summary>
    /// Grid: one equal cell per video track (a fixed grid for every track of the archive, so a track keeps its cell
    /// from its start to its stop). SpeakerFocus: the first track fills the canvas, the others are quarter-size
    /// thumbnails along the bottom.
    /// </summary>
    public static (int X, int Y, int W, int H)[] Cells(ArchiveLayout layout, int count, int width, int height)
    {
        var cells = new (int, int, int, int)[count];
        if (count == 0)
        {
            return cells;
        }

        if (layout == ArchiveLayout.SpeakerFocus)
        {
            cells[0] = (0, 0, width, height);
            var tw = Even(width / 4);
            var th = Even(height / 4);
            for (var i = 1; i < count; i++)
            {
                cells[i] = (((i - 1) % 4) * tw, height - (th * (1 + ((i - 1) / 4))), tw, th);
            }

            return cells;
        }

        var columns = (int)Math.Ceiling(Math.Sqrt(count));
        var rows = (int)Math.Ceiling(count / (double)columns);
        var w = Even(width / columns);
        var h = Even(height / rows);
        for (var i = 0; i < count; i++)
        {
            cells[i] = ((i % columns) * w, (i / columns) * h, w, h);
        }

        return cells;
    }

    private static int Even(int v) => v & ~1;
}
