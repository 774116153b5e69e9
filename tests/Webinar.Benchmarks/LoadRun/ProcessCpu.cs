using System.Globalization;

namespace Webinar.Benchmarks.LoadRun;

/// <summary>CPU time a process has used so far (utime + stime from /proc/&lt;pid&gt;/stat).</summary>
internal static class ProcessCpu
{
    private const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    public static TimeSpan Read(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((utime + stime) / ClockTicksPerSecond);
    }

    /// <summary>The 1-minute load average, to note when the shared machine was busy.</summary>
    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();
}
