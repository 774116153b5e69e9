using System.Diagnostics;
using System.Globalization;

namespace Webinar.TestSupport.Servers;

/// <summary>
/// Every container this process starts carries <see cref="Label"/> = its process id, so that what it leaves behind (a
/// spare nobody took, a run killed half-way) is removed: its own at exit, and a dead process's when the next one starts.
/// Testcontainers' own reaper (Ryuk) is an image from a registry, so it is off.
/// </summary>
internal static class Leftovers
{
    public const string Label = "webinar.test.pid";

    public static string ProcessId { get; } = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Removes the containers of test processes that are gone, and arranges this process's removal at exit.</summary>
    public static void Track()
    {
        var dead = Docker("ps", "-a", "--filter", "label=" + Label, "--format", "{{.ID}} {{.Label \"" + Label + "\"}}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .Where(parts => parts.Length == 2 && !IsAlive(parts[1]))
            .Select(parts => parts[0])
            .ToArray();
        if (dead.Length > 0)
        {
            Docker(["rm", "-f", .. dead]);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            var mine = Docker("ps", "-aq", "--filter", $"label={Label}={ProcessId}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (mine.Length > 0)
            {
                Docker(["rm", "-f", .. mine]);
            }
        };
    }

    private static bool IsAlive(string pid) =>
        int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && Directory.Exists($"/proc/{id}");

    /// <summary>Runs the docker command line; what it printed, or nothing when it is missing or fails.</summary>
    private static string Docker(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            return process.WaitForExit(TimeSpan.FromSeconds(20)) && process.ExitCode == 0 ? output.Result : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}
