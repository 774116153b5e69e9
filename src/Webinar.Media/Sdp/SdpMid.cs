namespace Webinar.Media.Sdp;

/// <summary>
/// What a media identification (a=mid, RFC 8843 §9.1) from a peer may look like: an RFC 8866 token of at most
/// <see cref="MaxLength"/> characters, which is also what fits one RTP header extension element (RFC 8285: 16 bytes of
/// a one-byte header). The node reads a peer's mid only to match its m= sections and its RTP; it never writes a
/// peer's mid into another peer's SDP.
/// </summary>
public static class SdpMid
{
    public const int MaxLength = 16;

    public static bool IsValid(string? mid)
    {
        if (string.IsNullOrEmpty(mid) || mid.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in mid)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 8866 §9 token-char: printable US-ASCII except space and " ( ) , / : ; &lt; = &gt; ? @ [ \ ].</summary>
    private static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '{' or '|' or '}' or '~';
}
