namespace Webinar.Media.Sdp;

/// <summary>
/// Simulcast in SDP: the RIDs a sender declares (a=rid, RFC 8851) and the order it sends them in (a=simulcast, RFC
/// 8853), read from a media section's other attributes, and the receiving side's answer. A publisher lists its
/// encodings lowest resolution first (webinar.js sends q;h;f), so a RID's position is its spatial layer. Alternatives
/// (',') keep their first RID; the paused marker ('~') is ignored. Never throws on bad input.
/// </summary>
public static class SdpSimulcast
{
    /// <summary>Most encodings the node accepts for one track; more are not answered.</summary>
    public const int MaxLayers = 4;

    /// <summary>A RID fits the one-byte header extension element (16 bytes).</summary>
    public const int MaxRidLength = 16;

    /// <summary>The RIDs the section sends in simulcast, lowest layer first; false when it does not send simulcast.</summary>
    public static bool TryReadSendLayers(MediaDescription media, out IReadOnlyList<string> rids)
    {
        ArgumentNullException.ThrowIfNull(media);
        rids = [];
        var declared = new HashSet<string>(StringComparer.Ordinal);
        string? simulcast = null;
        foreach (var attribute in media.OtherAttributes)
        {
            if (attribute.Name == "rid" && attribute.Value is { } rid)
            {
                var parts = rid.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[1] == "send" && IsValidRid(parts[0]))
                {
                    declared.Add(parts[0]);
                }
            }
            else if (attribute.Name == "simulcast" && attribute.Value is { } value)
            {
                simulcast ??= value;
            }
        }

        if (simulcast is null)
        {
            return false;
        }

        var tokens = simulcast.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var list = new List<string>();
        for (var i = 0; i + 1 < tokens.Length; i += 2)
        {
            if (tokens[i] != "send")
            {
                continue;
            }

            foreach (var stream in tokens[i + 1].Split(';'))
            {
                var first = stream.Split(',')[0].TrimStart('~');
                if (declared.Contains(first) && !list.Contains(first) && list.Count < MaxLayers)
                {
                    list.Add(first);
                }
            }
        }

        rids = list;
        return list.Count > 1;
    }

    /// <summary>The answer to a simulcast sender: each RID received, in the sender's order.</summary>
    public static void AddReceiveAnswer(MediaDescription answer, IReadOnlyList<string> rids)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(rids);
        foreach (var rid in rids)
        {
            answer.OtherAttributes.Add(new SdpAttribute("rid", rid + " recv"));
        }

        answer.OtherAttributes.Add(new SdpAttribute("simulcast", "recv " + string.Join(';', rids)));
    }

    /// <summary>RFC 8851 rid-syntax: alphanumerics, '-' and '_', here at most <see cref="MaxRidLength"/> of them.</summary>
    public static bool IsValidRid(string rid)
    {
        if (rid.Length is 0 or > MaxRidLength)
        {
            return false;
        }

        foreach (var c in rid)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
