namespace Webinar.Media.Sdp;

/// <summary>
/// An SDP session description (RFC 8866) with the attributes WebRTC uses (JSEP, RFC 8829; BUNDLE, RFC 8843).
/// A plain mutable model: <see cref="SdpParser"/> fills it, <see cref="SdpAnswerBuilder"/> builds one,
/// <see cref="SdpWriter"/> serialises it. Attributes the model does not know are kept in <see cref="OtherAttributes"/>.
/// </summary>
public sealed class SessionDescription : ISdpTransportAttributes
{
    public SdpOrigin Origin { get; set; } = new("-", "0", 0, "IN", "IP4", "0.0.0.0");

    public string SessionName { get; set; } = "-";

    /// <summary>Session-level c= value, e.g. "IN IP4 0.0.0.0", if any.</summary>
    public string? Connection { get; set; }

    /// <summary>The t= value.</summary>
    public string Timing { get; set; } = "0 0";

    public List<SdpGroup> Groups { get; } = [];

    /// <summary>a=ice-lite (RFC 8445 §5.1.1): this side only answers connectivity checks.</summary>
    public bool IceLite { get; set; }

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public string? IceOptions { get; set; }

    /// <summary>Session-level a=fingerprint value, e.g. "sha-256 AB:CD:...".</summary>
    public string? Fingerprint { get; set; }

    public string? Setup { get; set; }

    /// <summary>a=msid-semantic value, e.g. "WMS *".</summary>
    public string? MsidSemantic { get; set; }

    public bool ExtmapAllowMixed { get; set; }

    public List<SdpAttribute> OtherAttributes { get; } = [];

    public List<MediaDescription> Media { get; } = [];

    /// <summary>The group with the given semantics ("BUNDLE"), or null.</summary>
    public SdpGroup? FindGroup(string semantics)
    {
        foreach (var group in Groups)
        {
            if (string.Equals(group.Semantics, semantics, StringComparison.OrdinalIgnoreCase))
            {
                return group;
            }
        }

        return null;
    }
}

/// <summary>
/// The transport attributes that stand at session level or in a media section (the media section's win): ICE
/// credentials and options (RFC 8839), the DTLS fingerprint and setup role (RFC 8122).
/// </summary>
public interface ISdpTransportAttributes
{
    string? IceUfrag { get; set; }

    string? IcePwd { get; set; }

    string? IceOptions { get; set; }

    string? Fingerprint { get; set; }

    string? Setup { get; set; }
}

/// <summary>o= line: username, session id, session version, network type, address type, address.</summary>
public sealed record SdpOrigin(string Username, string SessionId, ulong SessionVersion, string NetworkType, string AddressType, string Address);

/// <summary>a=group (RFC 5888), e.g. BUNDLE 0 1 2.</summary>
public sealed record SdpGroup(string Semantics, IReadOnlyList<string> Mids);

/// <summary>An attribute kept verbatim: a=name or a=name:value.</summary>
public sealed record SdpAttribute(string Name, string? Value);

public enum SdpDirection
{
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// <summary>One m= section.</summary>
public sealed class MediaDescription : ISdpTransportAttributes
{
    /// <summary>"audio", "video", "application", ...</summary>
    public string Kind { get; set; } = "";

    public int Port { get; set; }

    /// <summary>The "/n" of "port/n", if present.</summary>
    public int? PortCount { get; set; }

    /// <summary>The transport protocol of WebRTC media (RFC 8834 §5.1.2), the only one the node and the client answer.</summary>
    public const string WebRtcProtocol = "UDP/TLS/RTP/SAVPF";

    /// <summary><see cref="WebRtcProtocol"/> for WebRTC media.</summary>
    public string Protocol { get; set; } = "";

    /// <summary>The m= line's format list in order (RTP payload types as text, or "webrtc-datachannel").</summary>
    public List<string> Formats { get; } = [];

    public string? Connection { get; set; }

    /// <summary>b= values verbatim, e.g. "AS:30".</summary>
    public List<string> Bandwidths { get; } = [];

    public string? Mid { get; set; }

    /// <summary>The direction attribute; <see cref="SdpDirection.SendRecv"/> when absent, as RFC 8866 says.</summary>
    public SdpDirection Direction { get; set; } = SdpDirection.SendRecv;

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public string? IceOptions { get; set; }

    public string? Fingerprint { get; set; }

    public string? Setup { get; set; }

    /// <summary>a=rtcp value, e.g. "9 IN IP4 0.0.0.0".</summary>
    public string? Rtcp { get; set; }

    public bool RtcpMux { get; set; }

    public bool RtcpRsize { get; set; }

    /// <summary>Codecs in m= line order; a payload type without a=rtpmap has an empty <see cref="SdpCodec.Name"/>.</summary>
    public List<SdpCodec> Codecs { get; } = [];

    public List<SdpExtmap> Extensions { get; } = [];

    /// <summary>a=msid values, "streamId trackId".</summary>
    public List<string> Msids { get; } = [];

    public List<SdpSsrc> Ssrcs { get; } = [];

    public List<SdpSsrcGroup> SsrcGroups { get; } = [];

    public List<SdpCandidate> Candidates { get; } = [];

    public bool EndOfCandidates { get; set; }

    public List<SdpAttribute> OtherAttributes { get; } = [];

    /// <summary>
    /// a=bundle-only (RFC 8843 §6): port 0 in an offer, yet the section is meant to share the BUNDLE transport
    /// (JSEP max-bundle, as GStreamer's webrtcbin and Firefox offer every m= section after the first).
    /// </summary>
    public bool BundleOnly { get; set; }

    /// <summary>True when the port is 0 and the section is not bundle-only: it is rejected or disabled.</summary>
    public bool IsRejected => Port == 0 && !BundleOnly;

    public SdpCodec? FindCodec(int payloadType)
    {
        foreach (var codec in Codecs)
        {
            if (codec.PayloadType == payloadType)
            {
                return codec;
            }
        }

        return null;
    }

    public SdpSsrc? FindSsrc(uint ssrc)
    {
        foreach (var entry in Ssrcs)
        {
            if (entry.Ssrc == ssrc)
            {
                return entry;
            }
        }

        return null;
    }
}

/// <summary>One payload type: a=rtpmap, a=fmtp and its a=rtcp-fb lines.</summary>
public sealed class SdpCodec
{
    public SdpCodec(int payloadType)
    {
        PayloadType = payloadType;
    }

    public int PayloadType { get; }

    /// <summary>Encoding name as written ("opus", "VP8", "H264"), empty without a=rtpmap.</summary>
    public string Name { get; set; } = "";

    public int ClockRate { get; set; }

    /// <summary>Audio channels from "name/rate/channels", if present.</summary>
    public int? Channels { get; set; }

    /// <summary>a=fmtp parameters verbatim, e.g. "minptime=10;useinbandfec=1".</summary>
    public string? Fmtp { get; set; }

    /// <summary>a=rtcp-fb values without the payload type: "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc".</summary>
    public List<string> Feedback { get; } = [];

    /// <summary>The value of one fmtp parameter ("apt" for an rtx codec), or null.</summary>
    public string? FmtpParameter(string name)
    {
        if (Fmtp is null)
        {
            return null;
        }

        foreach (var part in Fmtp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            if (equals > 0 && string.Equals(part[..equals].Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                return part[(equals + 1)..].Trim();
            }
        }

        return null;
    }
}

/// <summary>a=extmap (RFC 8285): id, optional direction, URI, optional attributes.</summary>
public sealed record SdpExtmap(int Id, string? Direction, string Uri, string? Attributes = null);

/// <summary>All a=ssrc lines of one SSRC, attributes in order (RFC 5576).</summary>
public sealed class SdpSsrc
{
    public SdpSsrc(uint ssrc)
    {
        Ssrc = ssrc;
    }

    public uint Ssrc { get; }

    public List<SdpAttribute> Attributes { get; } = [];

    public string? Cname => Get("cname");

    /// <summary>"streamId trackId".</summary>
    public string? Msid => Get("msid");

    public string? Get(string name)
    {
        foreach (var attribute in Attributes)
        {
            if (string.Equals(attribute.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return attribute.Value;
            }
        }

        return null;
    }
}

/// <summary>a=ssrc-group, e.g. FID 1111 2222.</summary>
public sealed record SdpSsrcGroup(string Semantics, IReadOnlyList<uint> Ssrcs);

/// <summary>a=candidate (RFC 8839 §5.1). <see cref="Extensions"/> is everything after "typ type", verbatim.</summary>
public sealed record SdpCandidate(
    string Foundation,
    int Component,
    string Transport,
    uint Priority,
    string Address,
    int Port,
    string Type,
    string? Extensions = null);
