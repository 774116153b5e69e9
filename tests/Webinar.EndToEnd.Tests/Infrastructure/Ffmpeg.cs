using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>One stream of a media file as ffprobe reports it.</summary>
public sealed record ProbedStream(string CodecType, string CodecName, int Width, int Height);

/// <summary>What ffprobe says about a file: its duration and streams.</summary>
public sealed record ProbedFile(double DurationSeconds, IReadOnlyList<ProbedStream> Streams)
{
    public ProbedStream? Video => Streams.FirstOrDefault(s => s.CodecType == "video");

    public ProbedStream? Audio => Streams.FirstOrDefault(s => s.CodecType == "audio");
}

/// <summary>Debian's ffprobe and ffmpeg, run on archives the system produced.</summary>
public static class Ffmpeg
{
    public static async Task<ProbedFile> ProbeAsync(string path)
    {
        var (code, stdout, stderr) = await RunAsync("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", path]);
        Assert.True(code == 0, $"ffprobe failed on {path}: {stderr}");
        using var json = JsonDocument.Parse(stdout);
        var duration = double.Parse(json.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().Select(s => new ProbedStream(
            s.GetProperty("codec_type").GetString()!,
            s.GetProperty("codec_name").GetString()!,
            s.TryGetProperty("width", out var w) ? w.GetInt32() : 0,
            s.TryGetProperty("height", out var h) ? h.GetInt32() : 0)).ToList();
        return new ProbedFile(duration, streams);
    }

    /// <summary>Decodes every frame of the file (<c>ffmpeg -f null</c>); returns the video frames decoded.</summary>
    public static async Task<long> DecodeVideoFramesAsync(string path)
    {
        var (code, _, stderr) = await RunAsync("ffmpeg", ["-v", "error", "-xerror", "-i", path, "-map", "0:v:0", "-f", "null", "-"]);
        Assert.True(code == 0, $"ffmpeg could not decode {path}: {stderr}");
        var (_, frames, _) = await RunAsync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path]);
        return long.Parse(frames.Trim().Split('\n')[0].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Mean luma (Y, 16 = black in limited range) of the rectangle at <paramref name="seconds"/> into the file's video.</summary>
    public static async Task<double> MeanLumaAsync(string path, double seconds, int x, int y, int width, int height)
    {
        var at = seconds.ToString("0.###", CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = await RunAsync("ffmpeg", ["-v", "error", "-ss", at, "-i", path, "-frames:v", "1", "-an",
            "-vf", $"crop={width}:{height}:{x}:{y},signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"]);
        Assert.True(code == 0, $"ffmpeg could not measure {path} at {at} s: {stderr}");
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("lavfi.signalstats.YAVG=", StringComparison.Ordinal));
        Assert.True(line is not null, $"no frame at {at} s of {path}: {stdout} {stderr}");
        return double.Parse(line["lavfi.signalstats.YAVG=".Length..], CultureInfo.InvariantCulture);
    }

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
