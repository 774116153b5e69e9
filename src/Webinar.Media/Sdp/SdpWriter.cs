using System.Globalization;
using System.Text;

namespace Webinar.Media.Sdp;

/// <summary>Serialises a <see cref="SessionDescription"/> with CRLF line endings, in the order browsers write.</summary>
public static class SdpWriter
{
    public static string Write(SessionDescription sdp)
    {
        ArgumentNullException.ThrowIfNull(sdp);
        var text = new StringBuilder(4096);
        Line(text, "v=0");
        var o = sdp.Origin;
        Line(text, $"o={o.Username} {o.SessionId} {o.SessionVersion.ToString(CultureInfo.InvariantCulture)} {o.NetworkType} {o.AddressType} {o.Address}");
        Line(text, $"s={sdp.SessionName}");
        if (sdp.Connection is not null)
        {
            Line(text, $"c={sdp.Connection}");
        }

        Line(text, $"t={sdp.Timing}");
        foreach (var group in sdp.Groups)
        {
            Line(text, group.Mids.Count == 0 ? $"a=group:{group.Semantics}" : $"a=group:{group.Semantics} {string.Join(' ', group.Mids)}");
        }

        Flag(text, sdp.ExtmapAllowMixed, "extmap-allow-mixed");
        Value(text, "msid-semantic", sdp.MsidSemantic);
        Flag(text, sdp.IceLite, "ice-lite");
        Value(text, "ice-ufrag", sdp.IceUfrag);
        Value(text, "ice-pwd", sdp.IcePwd);
        Value(text, "ice-options", sdp.IceOptions);
        Value(text, "fingerprint", sdp.Fingerprint);
        Value(text, "setup", sdp.Setup);
        Attributes(text, sdp.OtherAttributes);

        foreach (var media in sdp.Media)
        {
            WriteMedia(text, media);
        }

        return text.ToString();
    }

    private static void WriteMedia(StringBuilder text, MediaDescription media)
    {
        var port = media.PortCount is { } count
            ? $"{media.Port.ToString(CultureInfo.InvariantCulture)}/{count.ToString(CultureInfo.InvariantCulture)}"
            : media.Port.ToString(CultureInfo.InvariantCulture);
        Line(text, $"m={media.Kind} {port} {media.Protocol} {string.Join(' ', media.Formats)}");
        if (media.Connection is not null)
        {
            Line(text, $"c={media.Connection}");
        }

        foreach (var bandwidth in media.Bandwidths)
        {
            Line(text, $"b={bandwidth}");
        }

        Value(text, "rtcp", media.Rtcp);
        foreach (var c in media.Candidates)
        {
            var extensions = c.Extensions is null ? "" : " " + c.Extensions;
            Line(text, string.Create(CultureInfo.InvariantCulture, $"a=candidate:{c.Foundation} {c.Component} {c.Transport} {c.Priority} {c.Address} {c.Port} typ {c.Type}{extensions}"));
        }

        Value(text, "ice-ufrag", media.IceUfrag);
        Value(text, "ice-pwd", media.IcePwd);
        Value(text, "ice-options", media.IceOptions);
        Value(text, "fingerprint", media.Fingerprint);
        Value(text, "setup", media.Setup);
        Value(text, "mid", media.Mid);
        Flag(text, media.BundleOnly, "bundle-only");
        foreach (var extension in media.Extensions)
        {
            var direction = extension.Direction is null ? "" : "/" + extension.Direction;
            var attributes = extension.Attributes is null ? "" : " " + extension.Attributes;
            Line(text, string.Create(CultureInfo.InvariantCulture, $"a=extmap:{extension.Id}{direction} {extension.Uri}{attributes}"));
        }

        Line(text, media.Direction switch
        {
            SdpDirection.SendOnly => "a=sendonly",
            SdpDirection.RecvOnly => "a=recvonly",
            SdpDirection.Inactive => "a=inactive",
            _ => "a=sendrecv",
        });
        foreach (var msid in media.Msids)
        {
            Line(text, $"a=msid:{msid}");
        }

        Flag(text, media.RtcpMux, "rtcp-mux");
        Flag(text, media.RtcpRsize, "rtcp-rsize");
        foreach (var codec in media.Codecs)
        {
            var pt = codec.PayloadType.ToString(CultureInfo.InvariantCulture);
            if (codec.Name.Length > 0)
            {
                var channels = codec.Channels is { } n ? "/" + n.ToString(CultureInfo.InvariantCulture) : "";
                Line(text, $"a=rtpmap:{pt} {codec.Name}/{codec.ClockRate.ToString(CultureInfo.InvariantCulture)}{channels}");
            }

            foreach (var feedback in codec.Feedback)
            {
                Line(text, $"a=rtcp-fb:{pt} {feedback}");
            }

            if (codec.Fmtp is not null)
            {
                Line(text, $"a=fmtp:{pt} {codec.Fmtp}");
            }
        }

        foreach (var group in media.SsrcGroups)
        {
            Line(text, $"a=ssrc-group:{group.Semantics} {string.Join(' ', group.Ssrcs)}");
        }

        foreach (var ssrc in media.Ssrcs)
        {
            var id = ssrc.Ssrc.ToString(CultureInfo.InvariantCulture);
            if (ssrc.Attributes.Count == 0)
            {
                Line(text, $"a=ssrc:{id}");
            }

            foreach (var attribute in ssrc.Attributes)
            {
                Line(text, attribute.Value is null ? $"a=ssrc:{id} {attribute.Name}" : $"a=ssrc:{id} {attribute.Name}:{attribute.Value}");
            }
        }

        Attributes(text, media.OtherAttributes);
        Flag(text, media.EndOfCandidates, "end-of-candidates");
    }

    private static void Attributes(StringBuilder text, List<SdpAttribute> attributes)
    {
        foreach (var attribute in attributes)
        {
            Line(text, attribute.Value is null ? $"a={attribute.Name}" : $"a={attribute.Name}:{attribute.Value}");
        }
    }

    private static void Flag(StringBuilder text, bool present, string name)
    {
        if (present)
        {
            Line(text, $"a={name}");
        }
    }

    private static void Value(StringBuilder text, string name, string? value)
    {
        if (value is not null)
        {
            Line(text, $"a={name}:{value}");
        }
    }

    private static void Line(StringBuilder text, string line) => text.Append(line).Append("\r\n");
}
