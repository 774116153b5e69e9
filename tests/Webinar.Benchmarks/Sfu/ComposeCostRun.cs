using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Webinar.Benchmarks.LoadRun;
using Webinar.Contracts.Archives;
using Webinar.Sfu.Archives;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// What finishing a composed archive costs per presenter: the node's own <see cref="ArchiveFinisher"/> (ffprobe, then
/// one ffmpeg run: layout, x264 with the node's preset and thread count, AAC) on tracks as the recorder writes them
/// (VP8 in IVF, Opus in Ogg) of <c>--seconds</c> of a moving test picture (ffmpeg's testsrc2 at the archive's
/// resolution, 30 frames/s, about 1.5 Mbit/s) and a tone, for 1, 2 and 4 presenters. CPU is the children's
/// (getrusage RUSAGE_CHILDREN) over the finish; the generation of the inputs is not counted.
/// <code>dotnet tests/Webinar.Benchmarks/bin/Release/net10.0/Webinar.Benchmarks.dll compose-cost --seconds 10</code>
/// </summary>
internal static class ComposeCostRun
{
    public const string Verb = "compose-cost";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--seconds", "--resolution"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int seconds = options.Int("--seconds", 10, 2, 120);
        string resolution = options.String("--resolution", "1280x720");
        var size = resolution.Split('x');
        int width = int.Parse(size[0], CultureInfo.InvariantCulture), height = int.Parse(size[1], CultureInfo.InvariantCulture);
        var work = Directory.CreateTempSubdirectory("compose-cost-");
        var nodeOptions = new ArchiveNodeOptions();
        try
        {
            Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}; x264 preset {nodeOptions.X264Preset}, {nodeOptions.FfmpegThreads} ffmpeg thread(s), {width}x{height}, {seconds} s");
            var video = Path.Combine(work.FullName, "video.ivf");
            var audio = Path.Combine(work.FullName, "audio.ogg");
            await FfmpegAsync(["-y", "-v", "error", "-f", "lavfi", "-i", $"testsrc2=size={width}x{height}:rate=30:duration={seconds}",
                "-c:v", "libvpx", "-b:v", "1500k", "-deadline", "realtime", "-cpu-used", "8", video]);
            await FfmpegAsync(["-y", "-v", "error", "-f", "lavfi", "-i", $"sine=frequency=440:sample_rate=48000:duration={seconds}",
                "-ac", "2", "-c:a", "libopus", "-b:a", "64k", audio]);

            Console.WriteLine("| Presenters | archive seconds | finish CPU (s) | CPU per archive-second | per presenter-second | wall (s) | × real time |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var presenters in new[] { 1, 2, 4 })
            {
                var dir = Directory.CreateDirectory(Path.Combine(work.FullName, "p" + presenters)).FullName;
                var tracks = new List<TrackInfo>();
                for (var p = 0; p < presenters; p++)
                {
                    var attendee = Guid.NewGuid();
                    File.Copy(video, Path.Combine(dir, $"{2 * p:00}-video.ivf"));
                    File.Copy(audio, Path.Combine(dir, $"{(2 * p) + 1:00}-audio.ogg"));
                    tracks.Add(new TrackInfo(2 * p, attendee, "presenter-" + p, "video", "VP8", $"{2 * p:00}-video.ivf", 0));
                    tracks.Add(new TrackInfo((2 * p) + 1, attendee, "presenter-" + p, "audio", "opus", $"{(2 * p) + 1:00}-audio.ogg", 0));
                }

                var archive = new ArchiveStarted(Guid.NewGuid(), Guid.NewGuid(), "bench",
                    new ArchiveSettings("bench", ArchiveOutputMode.Composed, true, true, width, height, ArchiveLayout.Grid, TimeSpan.FromHours(1)),
                    DateTimeOffset.UtcNow);
                var cpuBefore = ChildrenCpu();
                var clock = Stopwatch.StartNew();
                var finished = await new ArchiveFinisher(nodeOptions).FinishAsync(archive, dir, tracks, seconds, CancellationToken.None);
                var wall = clock.Elapsed.TotalSeconds;
                var cpu = (ChildrenCpu() - cpuBefore).TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {presenters} | {finished.DurationSeconds:0.0} | {cpu:0.00} | {cpu / finished.DurationSeconds:0.000} | {cpu / finished.DurationSeconds / presenters:0.000} | {wall:0.0} | {finished.DurationSeconds / wall:0.00} |"));
            }

            Console.WriteLine($"loadavg after: {ProcessCpu.LoadAverage()}");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task FfmpegAsync(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("ffmpeg failed making the inputs: " + stderr);
        }
    }

    /// <summary>User + system CPU of every child this process has waited for (getrusage RUSAGE_CHILDREN).</summary>
    private static TimeSpan ChildrenCpu()
    {
        if (getrusage(-1, out var usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed: " + Marshal.GetLastPInvokeError());
        }

        return TimeSpan.FromMicroseconds((usage.UserSeconds + usage.SystemSeconds) * 1_000_000.0 + usage.UserMicros + usage.SystemMicros);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 14)]
        public long[] Rest;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);
}
