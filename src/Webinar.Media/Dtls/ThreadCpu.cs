using System.Runtime.InteropServices;

namespace Webinar.Media.Dtls;

/// <summary>The calling thread's CPU clock (CLOCK_THREAD_CPUTIME_ID on Linux); 0 where it cannot be read.</summary>
public static partial class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static long Nanoseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        return clock_gettime(ClockThreadCpuTimeId, out var time) == 0 ? time.Seconds * 1_000_000_000L + time.Nanoseconds : 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, out TimeSpec time);
}
