namespace Webinar.Media.Sdp;

/// <summary>
/// How much one SDP may describe. A peer's offer is parsed with these limits so that one connection cannot make the
/// node build (and queue, and send to others) answers of unbounded size: a 64 KiB offer of ~780 m= sections would
/// otherwise give a ~370 KB answer.
/// </summary>
/// <param name="MaxMediaSections">m= sections per SDP (a viewer of a large meeting needs two per stream it receives).</param>
/// <param name="MaxSsrcLines">a=ssrc and a=ssrc-group lines per SDP.</param>
/// <param name="MaxSsrcsPerMedia">Distinct SSRCs one m= section may name (a simulcast sender with RTX needs six).</param>
public sealed record SdpLimits(int MaxMediaSections = 128, int MaxSsrcLines = 512, int MaxSsrcsPerMedia = 16)
{
    public static SdpLimits Default { get; } = new();

    /// <summary>No limit beyond <see cref="SdpParser.MaxLength"/> (for SDPs the node writes or trusts).</summary>
    public static SdpLimits None { get; } = new(int.MaxValue, int.MaxValue, int.MaxValue);
}
