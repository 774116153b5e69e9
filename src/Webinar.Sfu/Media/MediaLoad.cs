using Webinar.Media.Dtls;

namespace Webinar.Sfu.Media;

/// <summary>
/// Once-a-second figures of the media thread, computed on it (so reading them takes no lock and touches no media
/// state): how busy the thread is (its CPU time over wall time), how many transports and relay links it serves, and
/// the packets its producers lost. Metrics and the heartbeat read them from any thread.
/// </summary>
internal sealed class MediaLoad
{
    private long _lastWallTicks;
    private long _lastCpuNanoseconds;
    private long _cpuNanoseconds;
    private double _busyRatio;
    private int _transports;
    private int _relayLinks;
    private long _packetsLost;

    /// <summary>The media thread's CPU time so far.</summary>
    public TimeSpan CpuTime => TimeSpan.FromTicks(Volatile.Read(ref _cpuNanoseconds) / 100);

    /// <summary>Share of the last second the media thread spent on the CPU (0..1).</summary>
    public double BusyRatio => Volatile.Read(ref _busyRatio);

    public int Transports => Volatile.Read(ref _transports);

    public int RelayLinks => Volatile.Read(ref _relayLinks);

    /// <summary>Packets the node's producers lost on their way in (RFC 3550 cumulative lost, summed).</summary>
    public long PacketsLost => Volatile.Read(ref _packetsLost);

    /// <summary>Media thread: refreshes the figures when a second has passed since the last time.</summary>
    public void Update(long nowTicks, long ticksPerSecond, IReadOnlyList<MediaTransport> transports)
    {
        if (nowTicks - _lastWallTicks < ticksPerSecond)
        {
            return;
        }

        var cpu = ThreadCpu.Nanoseconds();
        if (_lastWallTicks != 0)
        {
            var wallNanoseconds = (nowTicks - _lastWallTicks) * (1_000_000_000.0 / ticksPerSecond);
            Volatile.Write(ref _busyRatio, Math.Clamp((cpu - _lastCpuNanoseconds) / wallNanoseconds, 0, 1));
        }

        _lastWallTicks = nowTicks;
        _lastCpuNanoseconds = cpu;
        Volatile.Write(ref _cpuNanoseconds, cpu);

        var links = 0;
        long lost = 0;
        for (var i = 0; i < transports.Count; i++)
        {
            var transport = transports[i];
            if (transport is RelayLink)
            {
                links++;
            }

            foreach (var producer in transport.Producers)
            {
                lost += Math.Max(0, producer.Statistics.CumulativeLost);
            }
        }

        Volatile.Write(ref _transports, transports.Count);
        Volatile.Write(ref _relayLinks, links);
        Volatile.Write(ref _packetsLost, lost);
    }
}
