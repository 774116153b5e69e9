using Webinar.Media.Rtp;

namespace Webinar.Sfu.Media;

/// <summary>
/// Bounds on the work and state one authenticated peer can make the media loop spend, bound from
/// <c>Sfu:Media</c>. Whatever a peer sends beyond them is dropped and counted in <see cref="MediaCounters"/>.
/// </summary>
internal sealed class MediaLimitsOptions
{
    public const string Section = "Sfu:Media";

    /// <summary>How much one subscriber's NACKs may make the node resend, per consumer.</summary>
    public RetransmissionOptions Retransmission { get; set; } = new();

    /// <summary>
    /// SSRCs one transport keeps SRTP/SRTCP state for (replay window, roll-over counter). A browser uses a few per
    /// track; beyond this the least recently used one is forgotten.
    /// </summary>
    public int MaxSrtpStreams { get; set; } = 32;

    /// <summary>Per-subscriber bandwidth estimation and layer allocation (simulcast, audio fallback).</summary>
    public Bandwidth.BandwidthOptions Bandwidth { get; set; } = new();
}
