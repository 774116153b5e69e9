namespace Webinar.Sfu.Archives;

/// <summary>How the node records archives, bound from <c>Archives</c> (the storage directory is <c>Archives:Directory</c>).</summary>
internal sealed class ArchiveNodeOptions
{
    public const string Section = "Archives";

    /// <summary>Where tracks are recorded until the archive is finished; by default <c>{storage}/.work/{nodeId}</c>.</summary>
    public string? WorkDirectory { get; set; }

    public string FfmpegPath { get; set; } = "ffmpeg";

    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>x264 preset of composed archives: faster presets cost less CPU per presenter and give bigger files.</summary>
    public string X264Preset { get; set; } = "veryfast";

    /// <summary>Threads one ffmpeg run may use, so finishing an archive leaves the media loop a core.</summary>
    public int FfmpegThreads { get; set; } = 1;

    /// <summary>Longest one ffmpeg run may take before the archive fails.</summary>
    public TimeSpan FinishTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often new presenter tracks are attached, the maximum length checked and write errors noticed.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often recorded tracks are handed to the operating system: a killed node loses at most this much of an archive.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Packets queued between the media thread and the writer before new ones are dropped (and counted).</summary>
    public int QueueCapacity { get; set; } = 8192;

    /// <summary>An archive does not start with less free space than this in its work directory.</summary>
    public long MinFreeBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a report to the control plane (stopped, available, failed) is retried while the broker is down.</summary>
    public TimeSpan ReportRetryFor { get; set; } = TimeSpan.FromMinutes(2);
}
