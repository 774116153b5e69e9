using System.Globalization;

namespace Webinar.Media.Sdp;

/// <summary>
/// Parses SDP text into a <see cref="SessionDescription"/>. Strict on structure (v= first, then o=, s=; m= lines
/// well-formed; the attributes the model knows must be well-formed) and tolerant of everything else: unknown
/// attributes are kept verbatim, unknown line types ignored. Never throws: a bad input gives false and an error
/// naming the line.
/// </summary>
public static class SdpParser
{
    /// <summary>Inputs larger than this are refused outright (a Chromium offer with 3 m-lines is about 9 KB).</summary>
    public const int MaxLength = 256 * 1024;

    public static bool TryParse(string? text, out SessionDescription sdp, out string error) =>
        TryParse(text, SdpLimits.Default, out sdp, out error);

    /// <summary>Parses <paramref name="text"/>, refusing an SDP that describes more than <paramref name="limits"/> allow.</summary>
    public static bool TryParse(string? text, SdpLimits limits, out SessionDescription sdp, out string error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        sdp = new SessionDescription();
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            error = "The SDP is empty.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"The SDP is longer than {MaxLength} characters.";
            return false;
        }

        var lineNumber = 0;
        var sawVersion = false;
        var sawOrigin = false;
        var sawSessionName = false;
        var ssrcLines = 0;
        MediaDescription? media = null;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (line.IsEmpty)
            {
                continue;
            }

            if (line.Length < 2 || line[1] != '=' || line[0] is < 'a' or > 'z')
            {
                error = Fail(lineNumber, "is not of the form <type>=<value>");
                return false;
            }

            var type = line[0];
            var value = line[2..];
            if (!sawVersion)
            {
                if (type != 'v' || !value.SequenceEqual("0"))
                {
                    error = Fail(lineNumber, "must be v=0, the first line of an SDP");
                    return false;
                }

                sawVersion = true;
                continue;
            }

            if (!sawOrigin)
            {
                if (type != 'o' || !TryParseOrigin(value, out var origin))
                {
                    error = Fail(lineNumber, "must be a well-formed o= line (origin) right after v=0");
                    return false;
                }

                sdp.Origin = origin;
                sawOrigin = true;
                continue;
            }

            if (!sawSessionName)
            {
                if (type != 's')
                {
                    error = Fail(lineNumber, "must be the s= line (session name) right after o=");
                    return false;
                }

                sdp.SessionName = value.ToString();
                sawSessionName = true;
                continue;
            }

            string? problem;
            switch (type)
            {
                case 'v':
                case 'o':
                case 's':
                    error = Fail(lineNumber, $"repeats the {type}= line");
                    return false;
                case 'm':
                    if (!TryParseMediaLine(value, out media))
                    {
                        error = Fail(lineNumber, "is not a well-formed m= line (<media> <port> <proto> <fmt> ...)");
                        return false;
                    }

                    if (sdp.Media.Count == limits.MaxMediaSections)
                    {
                        error = Fail(lineNumber, $"is m= section {limits.MaxMediaSections + 1}; at most {limits.MaxMediaSections} are allowed");
                        return false;
                    }

                    sdp.Media.Add(media);
                    continue;
                case 'c':
                    if (media is null)
                    {
                        sdp.Connection = value.ToString();
                    }
                    else
                    {
                        media.Connection = value.ToString();
                    }

                    continue;
                case 't':
                    if (media is not null)
                    {
                        error = Fail(lineNumber, "puts t= inside a media section");
                        return false;
                    }

                    sdp.Timing = value.ToString();
                    continue;
                case 'b':
                    media?.Bandwidths.Add(value.ToString());
                    continue;
                case 'a':
                    if (value.StartsWith("ssrc") && ++ssrcLines > limits.MaxSsrcLines)
                    {
                        error = Fail(lineNumber, $"is a=ssrc line {ssrcLines}; at most {limits.MaxSsrcLines} a=ssrc and a=ssrc-group lines are allowed");
                        return false;
                    }

                    problem = media is null ? ParseSessionAttribute(sdp, value) : ParseMediaAttribute(media, value, limits);
                    if (problem is not null)
                    {
                        error = Fail(lineNumber, problem);
                        return false;
                    }

                    continue;
                default:
                    // i=, u=, e=, p=, r=, z=, k= and future line types: allowed, not modelled.
                    continue;
            }
        }

        if (!sawOrigin || !sawSessionName)
        {
            error = "The SDP ends before its v=, o= and s= lines are complete.";
            return false;
        }

        return true;
    }

    private static string Fail(int lineNumber, string problem) => $"SDP line {lineNumber} {problem}.";

    private static bool TryParseOrigin(ReadOnlySpan<char> value, out SdpOrigin origin)
    {
        origin = null!;
        Span<Range> parts = stackalloc Range[7];
        if (value.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries) != 6
            || !ulong.TryParse(value[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return false;
        }

        origin = new SdpOrigin(
            value[parts[0]].ToString(),
            value[parts[1]].ToString(),
            version,
            value[parts[3]].ToString(),
            value[parts[4]].ToString(),
            value[parts[5]].ToString());
        return true;
    }

    private static bool TryParseMediaLine(ReadOnlySpan<char> value, out MediaDescription media)
    {
        media = new MediaDescription();
        var tokens = value.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < 4 || !IsToken(tokens[0]) || !IsToken(tokens[2]))
        {
            return false;
        }

        var port = tokens[1];
        var slash = port.IndexOf('/');
        if (slash >= 0)
        {
            if (!int.TryParse(port.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
            {
                return false;
            }

            media.PortCount = count;
            port = port[..slash];
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber) || portNumber > 65535)
        {
            return false;
        }

        media.Kind = tokens[0];
        media.Port = portNumber;
        media.Protocol = tokens[2];
        var isRtp = media.Protocol.Contains("RTP", StringComparison.OrdinalIgnoreCase);
        for (var i = 3; i < tokens.Length; i++)
        {
            if (isRtp)
            {
                if (!TryParsePayloadType(tokens[i], out var payloadType))
                {
                    return false;
                }

                if (media.FindCodec(payloadType) is null)
                {
                    media.Codecs.Add(new SdpCodec(payloadType));
                }
            }

            media.Formats.Add(tokens[i]);
        }

        return true;
    }

    /// <summary>The transport attributes, at either level: true when <paramref name="name"/> is one of them.</summary>
    private static bool TryParseTransportAttribute(ISdpTransportAttributes target, string name, string? value, out string? problem)
    {
        switch (name)
        {
            case "ice-ufrag":
                target.IceUfrag = value;
                problem = value is { Length: > 0 } ? null : "has an empty a=ice-ufrag";
                return true;
            case "ice-pwd":
                target.IcePwd = value;
                problem = value is { Length: > 0 } ? null : "has an empty a=ice-pwd";
                return true;
            case "ice-options":
                target.IceOptions = value;
                problem = null;
                return true;
            case "fingerprint":
                target.Fingerprint = value;
                problem = value is { Length: > 0 } ? null : "has an empty a=fingerprint";
                return true;
            case "setup":
                target.Setup = value;
                problem = IsSetup(value) ? null : "has an a=setup that is not active, passive, actpass or holdconn";
                return true;
            default:
                problem = null;
                return false;
        }
    }

    private static string? ParseSessionAttribute(SessionDescription sdp, ReadOnlySpan<char> attribute)
    {
        var (name, value) = Split(attribute);
        if (TryParseTransportAttribute(sdp, name, value, out var problem))
        {
            return problem;
        }

        switch (name)
        {
            case "group":
                if (value is null || !TryParseGroup(value, out var group))
                {
                    return "has a malformed a=group";
                }

                sdp.Groups.Add(group);
                return null;
            case "ice-lite":
                sdp.IceLite = true;
                return null;
            case "msid-semantic":
                sdp.MsidSemantic = value?.Trim();
                return null;
            case "extmap-allow-mixed":
                sdp.ExtmapAllowMixed = true;
                return null;
            default:
                sdp.OtherAttributes.Add(new SdpAttribute(name, value));
                return null;
        }
    }

    private static string? ParseMediaAttribute(MediaDescription media, ReadOnlySpan<char> attribute, SdpLimits limits)
    {
        var (name, value) = Split(attribute);
        if (TryParseTransportAttribute(media, name, value, out var problem))
        {
            return problem;
        }

        switch (name)
        {
            case "mid":
                if (media.Mid is not null)
                {
                    return "repeats a=mid in one media section";
                }

                media.Mid = value;
                return value is { Length: > 0 } ? null : "has an empty a=mid";
            case "sendrecv":
                media.Direction = SdpDirection.SendRecv;
                return null;
            case "sendonly":
                media.Direction = SdpDirection.SendOnly;
                return null;
            case "recvonly":
                media.Direction = SdpDirection.RecvOnly;
                return null;
            case "inactive":
                media.Direction = SdpDirection.Inactive;
                return null;
            case "rtcp":
                media.Rtcp = value;
                return null;
            case "rtcp-mux":
                media.RtcpMux = true;
                return null;
            case "rtcp-rsize":
                media.RtcpRsize = true;
                return null;
            case "end-of-candidates":
                media.EndOfCandidates = true;
                return null;
            case "bundle-only":
                media.BundleOnly = true;
                return null;
            case "rtpmap":
                return ParseRtpmap(media, value);
            case "fmtp":
                return ParseFmtp(media, value);
            case "rtcp-fb":
                return ParseRtcpFeedback(media, value);
            case "extmap":
                return ParseExtmap(media, value);
            case "msid":
                if (value is not { Length: > 0 })
                {
                    return "has an empty a=msid";
                }

                media.Msids.Add(value);
                return null;
            case "ssrc":
                return ParseSsrc(media, value, limits);
            case "ssrc-group":
                return ParseSsrcGroup(media, value);
            case "candidate":
                if (value is null || !TryParseCandidate(value, out var candidate))
                {
                    return "has a malformed a=candidate";
                }

                media.Candidates.Add(candidate);
                return null;
            default:
                media.OtherAttributes.Add(new SdpAttribute(name, value));
                return null;
        }
    }

    private static (string Name, string? Value) Split(ReadOnlySpan<char> attribute)
    {
        var colon = attribute.IndexOf(':');
        return colon < 0
            ? (attribute.ToString(), null)
            : (attribute[..colon].ToString(), attribute[(colon + 1)..].ToString());
    }

    private static bool IsSetup(string? value) => value is "active" or "passive" or "actpass" or "holdconn";

    private static bool IsToken(string token)
    {
        foreach (var c in token)
        {
            if (c <= ' ' || c >= 0x7F)
            {
                return false;
            }
        }

        return token.Length > 0;
    }

    private static bool TryParsePayloadType(ReadOnlySpan<char> text, out int payloadType) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out payloadType) && payloadType <= 127;

    private static bool TryParseGroup(string value, out SdpGroup group)
    {
        var tokens = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        group = tokens.Length == 0 ? null! : new SdpGroup(tokens[0], tokens[1..]);
        return tokens.Length > 0;
    }

    private static (string Head, string Tail)? SplitFirst(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var space = value.IndexOf(' ');
        return space <= 0 ? (value, "") : (value[..space], value[(space + 1)..].Trim());
    }

    private static SdpCodec? CodecFor(MediaDescription media, string payloadType) =>
        TryParsePayloadType(payloadType, out var pt) ? media.FindCodec(pt) : null;

    private static string? ParseRtpmap(MediaDescription media, string? value)
    {
        if (SplitFirst(value) is not var (pt, encoding) || encoding.Length == 0)
        {
            return "has a malformed a=rtpmap";
        }

        var codec = CodecFor(media, pt);
        if (codec is null)
        {
            return "has an a=rtpmap for a payload type not on the m= line";
        }

        var parts = encoding.Split('/');
        if (parts.Length is < 2 or > 3 || !IsToken(parts[0])
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var clockRate) || clockRate == 0)
        {
            return "has a malformed a=rtpmap encoding (<name>/<clock rate>[/<channels>])";
        }

        int? channels = null;
        if (parts.Length == 3)
        {
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count == 0)
            {
                return "has a malformed a=rtpmap channel count";
            }

            channels = count;
        }

        codec.Name = parts[0];
        codec.ClockRate = clockRate;
        codec.Channels = channels;
        return null;
    }

    private static string? ParseFmtp(MediaDescription media, string? value)
    {
        if (SplitFirst(value) is not var (pt, parameters))
        {
            return "has a malformed a=fmtp";
        }

        var codec = CodecFor(media, pt);
        if (codec is null)
        {
            return "has an a=fmtp for a payload type not on the m= line";
        }

        codec.Fmtp = parameters;
        return null;
    }

    private static string? ParseRtcpFeedback(MediaDescription media, string? value)
    {
        if (SplitFirst(value) is not var (pt, feedback) || feedback.Length == 0)
        {
            return "has a malformed a=rtcp-fb";
        }

        if (pt == "*")
        {
            foreach (var codec in media.Codecs)
            {
                codec.Feedback.Add(feedback);
            }

            return null;
        }

        var target = CodecFor(media, pt);
        if (target is null)
        {
            return "has an a=rtcp-fb for a payload type not on the m= line";
        }

        target.Feedback.Add(feedback);
        return null;
    }

    private static string? ParseExtmap(MediaDescription media, string? value)
    {
        var tokens = value?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens is not { Length: >= 2 })
        {
            return "has a malformed a=extmap";
        }

        var idText = tokens[0];
        string? direction = null;
        var slash = idText.IndexOf('/');
        if (slash >= 0)
        {
            direction = idText[(slash + 1)..];
            idText = idText[..slash];
            if (direction is not ("sendrecv" or "sendonly" or "recvonly" or "inactive"))
            {
                return "has an a=extmap with an unknown direction";
            }
        }

        // RFC 8285: ids 1-14 (one-byte) and 1-255 (two-byte); 15 is reserved.
        if (!int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id is < 1 or > 255 or 15)
        {
            return "has an a=extmap id outside 1-14 and 16-255";
        }

        media.Extensions.Add(new SdpExtmap(id, direction, tokens[1], tokens.Length > 2 ? string.Join(' ', tokens[2..]) : null));
        return null;
    }

    private static string? ParseSsrc(MediaDescription media, string? value, SdpLimits limits)
    {
        if (SplitFirst(value) is not var (ssrcText, attribute)
            || !uint.TryParse(ssrcText, NumberStyles.None, CultureInfo.InvariantCulture, out var ssrc))
        {
            return "has a malformed a=ssrc";
        }

        var entry = media.FindSsrc(ssrc);
        if (entry is null)
        {
            if (media.Ssrcs.Count == limits.MaxSsrcsPerMedia)
            {
                return $"names more than {limits.MaxSsrcsPerMedia} SSRCs in one media section";
            }

            entry = new SdpSsrc(ssrc);
            media.Ssrcs.Add(entry);
        }

        if (attribute.Length > 0)
        {
            var colon = attribute.IndexOf(':');
            entry.Attributes.Add(colon < 0
                ? new SdpAttribute(attribute, null)
                : new SdpAttribute(attribute[..colon], attribute[(colon + 1)..]));
        }

        return null;
    }

    private static string? ParseSsrcGroup(MediaDescription media, string? value)
    {
        var tokens = value?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens is not { Length: >= 2 })
        {
            return "has a malformed a=ssrc-group";
        }

        var ssrcs = new uint[tokens.Length - 1];
        for (var i = 1; i < tokens.Length; i++)
        {
            if (!uint.TryParse(tokens[i], NumberStyles.None, CultureInfo.InvariantCulture, out ssrcs[i - 1]))
            {
                return "has an a=ssrc-group with a malformed SSRC";
            }
        }

        media.SsrcGroups.Add(new SdpSsrcGroup(tokens[0], ssrcs));
        return null;
    }

    private static bool TryParseCandidate(string value, out SdpCandidate candidate)
    {
        candidate = null!;
        var tokens = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < 8
            || tokens[6] != "typ"
            || !int.TryParse(tokens[1], NumberStyles.None, CultureInfo.InvariantCulture, out var component) || component is < 1 or > 256
            || !uint.TryParse(tokens[3], NumberStyles.None, CultureInfo.InvariantCulture, out var priority)
            || !int.TryParse(tokens[5], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return false;
        }

        candidate = new SdpCandidate(
            tokens[0],
            component,
            tokens[2],
            priority,
            tokens[4],
            port,
            tokens[7],
            tokens.Length > 8 ? string.Join(' ', tokens[8..]) : null);
        return true;
    }
}
