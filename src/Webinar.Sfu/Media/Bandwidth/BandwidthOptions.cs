namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// How the node estimates each subscriber's downlink and shares it among the subscriber's streams
/// (<c>Sfu:Media:Bandwidth</c>). Defaults follow libwebrtc's GCC where it has one.
/// </summary>
internal sealed class BandwidthOptions
{
    public static BandwidthOptions Default { get; } = new();

    /// <summary>The estimate a subscriber starts with, bits/s (enough for the middle layer).</summary>
    public long InitialBitrate { get; set; } = 600_000;

    public long MinBitrate { get; set; } = 30_000;

    public long MaxBitrate { get; set; } = 20_000_000;

    /// <summary>How often the allocator re-picks layers.</summary>
    public TimeSpan AllocationInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>What an audio stream is budgeted before any video (Opus at 48 kHz with headers).</summary>
    public long AudioBitrate { get; set; } = 50_000;

    /// <summary>A layer is sent only while the estimate left covers its measured bitrate times this.</summary>
    public double LayerHeadroom { get; set; } = 1.1;

    /// <summary>A simulcast layer silent this long is not offered to subscribers (the publisher dropped it).</summary>
    public TimeSpan LayerInactiveAfter { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// A video is paused (audio only) once nothing of it has fitted the estimate for this long without a break, and
    /// only after the subscriber's feedback showed heavy loss (see <see cref="SubscriberAllocator"/>).
    /// </summary>
    public TimeSpan PauseAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Probing: padding is sent while the estimate is below what the preferred layers need, at most this often.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one probe lasts.</summary>
    public TimeSpan ProbeDuration { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>A probe sends at most this multiple of the current estimate.</summary>
    public double ProbeMaxMultiple { get; set; } = 3;

    /// <summary>Packets the send history remembers for transport-wide feedback (a power of two).</summary>
    public int SendHistoryCapacity { get; set; } = 8192;
}
