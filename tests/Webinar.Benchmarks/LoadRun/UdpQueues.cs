using System.Globalization;

namespace Webinar.Benchmarks.LoadRun;

/// <summary>
/// What waits in a process's UDP receive queues and what the kernel dropped there (/proc/net/udp and udp6, the
/// sockets the process holds in /proc/&lt;pid&gt;/fd): data queued at one instant says how far behind its receive
/// path is, and a backlog that drains inside a window delivers more than was sent in it.
/// </summary>
internal readonly record struct UdpQueues(long QueuedBytes, long Drops, int Sockets)
{
    public static UdpQueues Read(int pid)
    {
        var inodes = new HashSet<long>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd"))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out long inode))
                {
                    inodes.Add(inode);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return default;
        }

        long queued = 0, drops = 0;
        int sockets = 0;
        foreach (var table in (string[])["/proc/net/udp", "/proc/net/udp6"])
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local rem st tx_queue:rx_queue tr:tm retrnsmt uid timeout inode ref pointer drops
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 13 || !long.TryParse(fields[9], CultureInfo.InvariantCulture, out long inode) || !inodes.Contains(inode))
                {
                    continue;
                }

                var queues = fields[4].Split(':');
                queued += long.Parse(queues[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                drops += long.Parse(fields[^1], CultureInfo.InvariantCulture);
                sockets++;
            }
        }

        return new UdpQueues(queued, drops, sockets);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{QueuedBytes / 1024.0:0} KiB queued in {Sockets} sockets, {Drops} dropped so far");
}
