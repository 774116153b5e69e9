using System.Globalization;
using System.Net.Sockets;

namespace Webinar.Media.Sdp;

/// <summary>
/// Builds the node's answer to a browser's Unified Plan offer: ice-lite, one BUNDLE transport (one ufrag, pwd,
/// sha-256 fingerprint, setup:passive, rtcp-mux, rtcp-rsize, one host candidate), Opus for audio, VP8 (or H264
/// when VP8 is absent) for video, no RTX, and only the header extensions and feedback the node implements,
/// keeping the offer's payload types and extension ids. Never throws on a bad offer.
/// </summary>
public static class SdpAnswerBuilder
{
    public const string MidExtension = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string AbsSendTimeExtension = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideCcExtension = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string AudioLevelExtension = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public const string MediaProtocol = "UDP/TLS/RTP/SAVPF";

    /// <summary>Header extensions the node supports, answered with the offer's ids.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } =
        [MidExtension, AbsSendTimeExtension, TransportWideCcExtension, AudioLevelExtension];

    /// <summary>RTCP feedback the node answers for video; audio gets transport-cc only.</summary>
    public static IReadOnlyList<string> VideoFeedback { get; } = ["nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"];

    public static IReadOnlyList<string> AudioFeedback { get; } = ["transport-cc"];

    /// <summary>
    /// Reads the offer's BUNDLE transport: ICE credentials and fingerprint from the first m-line that has them
    /// (falling back to session level), and checks that the offer lets us be the DTLS server.
    /// </summary>
    public static bool TryGetRemoteTransport(SessionDescription offer, out SdpRemoteTransport transport, out string error)
    {
        transport = null!;
        MediaDescription? first = null;
        foreach (var media in offer.Media)
        {
            if (!media.IsRejected)
            {
                first = media;
                break;
            }
        }

        if (first is null)
        {
            error = "The offer has no active m-line.";
            return false;
        }

        var ufrag = first.IceUfrag ?? offer.IceUfrag;
        var pwd = first.IcePwd ?? offer.IcePwd;
        var fingerprintText = first.Fingerprint ?? offer.Fingerprint;
        var setup = first.Setup ?? offer.Setup ?? "actpass";
        if (string.IsNullOrEmpty(ufrag) || string.IsNullOrEmpty(pwd))
        {
            error = "The offer has no a=ice-ufrag/a=ice-pwd.";
            return false;
        }

        if (!Dtls.DtlsFingerprint.TryParse(fingerprintText, out var fingerprint))
        {
            error = "The offer has no usable a=fingerprint (sha-256, sha-384, sha-512 or sha-1).";
            return false;
        }

        if (setup is not ("actpass" or "active"))
        {
            error = $"The offer says a=setup:{setup}; the node is always the DTLS server, so it must be actpass or active.";
            return false;
        }

        transport = new SdpRemoteTransport(ufrag, pwd, fingerprint, setup);
        error = "";
        return true;
    }

    public static bool TryBuild(SessionDescription offer, SdpAnswerParameters parameters, out SessionDescription answer, out string error)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(parameters);
        answer = new SessionDescription();
        if (!TryGetRemoteTransport(offer, out _, out error))
        {
            return false;
        }

        var addressType = parameters.CandidateAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "IP6" : "IP4";
        var address = parameters.CandidateAddress.ToString();
        answer.Origin = new SdpOrigin("webinar-sfu", parameters.SessionId.ToString(CultureInfo.InvariantCulture), parameters.SessionVersion, "IN", addressType, address);
        answer.IceLite = true;
        answer.MsidSemantic = "WMS *";
        answer.Fingerprint = parameters.Fingerprint.ToString();

        var seenMids = new HashSet<string>(StringComparer.Ordinal);
        var bundle = new List<string>();
        foreach (var offered in offer.Media)
        {
            if (offered.Mid is null || !seenMids.Add(offered.Mid))
            {
                error = "Every m-line of a Unified Plan offer needs a unique a=mid.";
                return false;
            }

            var media = AnswerMedia(offered, parameters, addressType, address);
            if (!media.IsRejected)
            {
                bundle.Add(media.Mid!);
            }

            answer.Media.Add(media);
        }

        if (bundle.Count > 0)
        {
            answer.Groups.Add(new SdpGroup("BUNDLE", bundle));
        }

        return true;
    }

    private static MediaDescription AnswerMedia(MediaDescription offered, SdpAnswerParameters parameters, string addressType, string address)
    {
        var media = new MediaDescription
        {
            Kind = offered.Kind,
            Protocol = offered.Protocol,
            Mid = offered.Mid,
            Connection = $"IN {addressType} {address}",
        };

        var codec = offered.IsRejected || !string.Equals(offered.Protocol, MediaProtocol, StringComparison.OrdinalIgnoreCase)
            ? null
            : offered.Kind switch
            {
                "audio" => ChooseAudio(offered),
                "video" => ChooseVideo(offered),
                _ => null,
            };

        if (codec is null)
        {
            // Rejected (RFC 8866 §5.14, JSEP §5.3.1): port 0, the offer's first format echoed, the mid kept.
            media.Port = 0;
            media.Formats.Add(offered.Formats.Count > 0 ? offered.Formats[0] : "0");
            media.Direction = SdpDirection.Inactive;
            return media;
        }

        media.Port = parameters.CandidatePort;
        media.Formats.Add(codec.PayloadType.ToString(CultureInfo.InvariantCulture));
        media.IceUfrag = parameters.IceUfrag;
        media.IcePwd = parameters.IcePwd;
        media.Fingerprint = parameters.Fingerprint.ToString();
        media.Setup = "passive";
        media.RtcpMux = true;
        media.RtcpRsize = true;
        if (parameters.Candidates is { } candidates)
        {
            media.Candidates.AddRange(candidates);
        }
        else
        {
            media.Candidates.Add(new SdpCandidate("1", 1, "udp", 2130706431, address, parameters.CandidatePort, "host"));
        }

        media.EndOfCandidates = true;

        var answered = new SdpCodec(codec.PayloadType) { Name = codec.Name, ClockRate = codec.ClockRate, Channels = codec.Channels };
        if (offered.Kind == "audio")
        {
            answered.Fmtp = "minptime=10;useinbandfec=1";
        }
        else
        {
            answered.Fmtp = codec.Fmtp;
        }

        foreach (var feedback in offered.Kind == "audio" ? AudioFeedback : VideoFeedback)
        {
            if (codec.Feedback.Contains(feedback, StringComparer.OrdinalIgnoreCase))
            {
                answered.Feedback.Add(feedback);
            }
        }

        media.Codecs.Add(answered);
        foreach (var extension in offered.Extensions)
        {
            if (SupportedExtensions.Contains(extension.Uri, StringComparer.OrdinalIgnoreCase)
                && (extension.Uri != AudioLevelExtension || offered.Kind == "audio"))
            {
                media.Extensions.Add(new SdpExtmap(extension.Id, null, extension.Uri));
            }
        }

        var outgoing = parameters.OutgoingStreams.GetValueOrDefault(offered.Mid!);
        var clientSends = offered.Direction is SdpDirection.SendRecv or SdpDirection.SendOnly;
        var clientReceives = offered.Direction is SdpDirection.SendRecv or SdpDirection.RecvOnly;
        var nodeReceives = clientSends && parameters.AcceptIncomingMedia;
        var nodeSends = clientReceives && outgoing is not null;
        media.Direction = (nodeSends, nodeReceives) switch
        {
            (true, true) => SdpDirection.SendRecv,
            (true, false) => SdpDirection.SendOnly,
            (false, true) => SdpDirection.RecvOnly,
            _ => SdpDirection.Inactive,
        };

        if (nodeSends)
        {
            var msid = $"{outgoing!.StreamId} {outgoing.TrackId}";
            media.Msids.Add(msid);
            var ssrc = new SdpSsrc(outgoing.Ssrc);
            ssrc.Attributes.Add(new SdpAttribute("cname", outgoing.Cname));
            ssrc.Attributes.Add(new SdpAttribute("msid", msid));
            media.Ssrcs.Add(ssrc);
        }

        return media;
    }

    private static SdpCodec? ChooseAudio(MediaDescription offered)
    {
        foreach (var codec in offered.Codecs)
        {
            if (string.Equals(codec.Name, "opus", StringComparison.OrdinalIgnoreCase) && codec.ClockRate == 48000 && codec.Channels == 2)
            {
                return codec;
            }
        }

        return null;
    }

    /// <summary>VP8; else H264 preferring packetization-mode=1 constrained baseline (42e01f), then any mode 1, then any.</summary>
    private static SdpCodec? ChooseVideo(MediaDescription offered)
    {
        SdpCodec? baseline = null, mode1 = null, anyH264 = null;
        foreach (var codec in offered.Codecs)
        {
            if (codec.ClockRate != 90000)
            {
                continue;
            }

            if (string.Equals(codec.Name, "VP8", StringComparison.OrdinalIgnoreCase))
            {
                return codec;
            }

            if (string.Equals(codec.Name, "H264", StringComparison.OrdinalIgnoreCase))
            {
                anyH264 ??= codec;
                if (codec.FmtpParameter("packetization-mode") == "1")
                {
                    mode1 ??= codec;
                    if (string.Equals(codec.FmtpParameter("profile-level-id"), "42e01f", StringComparison.OrdinalIgnoreCase))
                    {
                        baseline ??= codec;
                    }
                }
            }
        }

        return baseline ?? mode1 ?? anyH264;
    }
}
