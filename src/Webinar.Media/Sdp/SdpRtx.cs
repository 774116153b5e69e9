namespace Webinar.Media.Sdp;

/// <summary>
/// RTX in SDP (RFC 4588 §8): an <c>rtx/&lt;clock rate&gt;</c> payload type whose <c>a=fmtp apt=</c> names the payload
/// type it retransmits, and on a sender's section <c>a=ssrc-group:FID &lt;media&gt; &lt;rtx&gt;</c> (RFC 5576 §4.2) pairing
/// each stream with its retransmission stream. Never throws on bad input.
/// </summary>
public static class SdpRtx
{
    public const string CodecName = "rtx";

    /// <summary>The section's rtx payload type for <paramref name="codec"/>: same clock rate, apt = its payload type.</summary>
    public static SdpCodec? FindFor(MediaDescription media, SdpCodec codec)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(codec);
        foreach (var candidate in media.Codecs)
        {
            if (string.Equals(candidate.Name, CodecName, StringComparison.OrdinalIgnoreCase) && candidate.ClockRate == codec.ClockRate
                && int.TryParse(candidate.FmtpParameter("apt"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var apt)
                && apt == codec.PayloadType)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The rtx payload type of the section for the payload type <paramref name="apt"/>, or false.</summary>
    public static bool TryGetPayloadType(MediaDescription media, int apt, out byte payloadType)
    {
        ArgumentNullException.ThrowIfNull(media);
        payloadType = 0;
        var original = media.FindCodec(apt);
        if (original is null || FindFor(media, original) is not { } rtx || rtx.PayloadType is < 0 or > 127)
        {
            return false;
        }

        payloadType = (byte)rtx.PayloadType;
        return true;
    }

    /// <summary>The retransmission SSRC an offer pairs with <paramref name="mediaSsrc"/> (the FID group's second), or 0.</summary>
    public static uint RetransmissionSsrcOf(MediaDescription media, uint mediaSsrc)
    {
        ArgumentNullException.ThrowIfNull(media);
        foreach (var group in media.SsrcGroups)
        {
            if (group.Semantics == "FID" && group.Ssrcs.Count == 2 && group.Ssrcs[0] == mediaSsrc && group.Ssrcs[1] != mediaSsrc)
            {
                return group.Ssrcs[1];
            }
        }

        return 0;
    }
}
