using System.Globalization;
using System.Net.Sockets;
using Webinar.Media.Rtp;

namespace Webinar.Media.Sdp;

/// <summary>
/// Builds the node's answer to a browser's Unified Plan offer: ice-lite, one BUNDLE transport (one ufrag, pwd,
/// sha-256 fingerprint, setup:passive, rtcp-mux, rtcp-rsize, one host candidate), Opus for audio, VP8 (or H264
/// when VP8 is absent) for video with its RTX payload type when offered (<see cref="SdpRtx"/>), simulcast received by RID
/// (<see cref="SdpSimulcast"/>), and only the header extensions and feedback the node implements,
/// keeping the offer's payload types and extension ids. Never throws on a bad offer.
/// </summary>
public static class SdpAnswerBuilder
{
    /// <summary>Header extensions the node supports, answered with the offer's ids.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } =
        [RtpExtensionUris.Mid, RtpExtensionUris.AbsSendTime, RtpExtensionUris.TransportWideSequenceNumber, RtpExtensionUris.AudioLevel];

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

    /// <summary>
    /// Everything that can make <see cref="TryBuild"/> refuse the offer, checked up front: its transport, and a unique,
    /// valid a=mid on every m= line.
    /// </summary>
    public static bool TryCheckOffer(SessionDescription offer, out SdpRemoteTransport transport, out string error)
    {
        ArgumentNullException.ThrowIfNull(offer);
        if (!TryGetRemoteTransport(offer, out transport, out error))
        {
            return false;
        }

        var seenMids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var offered in offer.Media)
        {
            if (offered.Mid is null || !seenMids.Add(offered.Mid))
            {
                error = "Every m-line of a Unified Plan offer needs a unique a=mid.";
                return false;
            }

            if (!SdpMid.IsValid(offered.Mid))
            {
                error = $"An a=mid must be a token of 1 to {SdpMid.MaxLength} characters (RFC 8843).";
                return false;
            }
        }

        return true;
    }

    public static bool TryBuild(SessionDescription offer, SdpAnswerParameters parameters, out SessionDescription answer, out string error)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(parameters);
        answer = new SessionDescription();
        if (!TryCheckOffer(offer, out _, out error))
        {
            return false;
        }

        var addressType = parameters.CandidateAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "IP6" : "IP4";
        var address = parameters.CandidateAddress.ToString();
        answer.Origin = new SdpOrigin("webinar-sfu", parameters.SessionId.ToString(CultureInfo.InvariantCulture), parameters.SessionVersion, "IN", addressType, address);
        answer.IceLite = true;
        answer.MsidSemantic = "WMS *";
        // The transport at session level as well as in each bundled section (RFC 8839 §5.4, RFC 8122 §5): a peer that
        // drops one section (webrtcbin does for one it rejects) still finds the credentials of the session.
        answer.IceUfrag = parameters.IceUfrag;
        answer.IcePwd = parameters.IcePwd;
        answer.Fingerprint = parameters.Fingerprint.ToString();
        answer.Setup = "passive";

        var bundle = new List<string>();
        foreach (var offered in offer.Media)
        {
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

        var codec = offered.IsRejected || !string.Equals(offered.Protocol, MediaDescription.WebRtcProtocol, StringComparison.OrdinalIgnoreCase)
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

        var answered = new SdpCodec(codec.PayloadType) { Name = codec.Name, ClockRate = codec.ClockRate, Channels = offered.Kind == "audio" ? 2 : codec.Channels };
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

        // RTX (RFC 4588) for the chosen video codec when the offer has it: retransmissions both ways then go on their
        // own SSRC and payload type. Without it the node retransmits on the media SSRC, as before.
        var rtx = offered.Kind == "video" ? SdpRtx.FindFor(offered, codec) : null;
        if (rtx is not null)
        {
            media.Formats.Add(rtx.PayloadType.ToString(CultureInfo.InvariantCulture));
            media.Codecs.Add(new SdpCodec(rtx.PayloadType) { Name = SdpRtx.CodecName, ClockRate = rtx.ClockRate, Fmtp = $"apt={codec.PayloadType.ToString(CultureInfo.InvariantCulture)}" });
        }

        // The RID element is accepted on every video section, simulcast or not: Chromium offers a later simulcast
        // section (a presenter who starts publishing after joining) only with extensions the session negotiated,
        // and refuses its own offer when the RID element is missing from it.
        foreach (var extension in offered.Extensions)
        {
            if ((SupportedExtensions.Contains(extension.Uri, StringComparer.OrdinalIgnoreCase)
                    && (extension.Uri != RtpExtensionUris.AudioLevel || offered.Kind == "audio"))
                || (extension.Uri == RtpExtensionUris.Rid && offered.Kind == "video")
                || (extension.Uri == RtpExtensionUris.RepairedRid && rtx is not null))
            {
                media.Extensions.Add(new SdpExtmap(extension.Id, null, extension.Uri));
            }
        }

        var outgoing = parameters.OutgoingStreams.GetValueOrDefault(offered.Mid!);
        var clientSends = offered.Direction is SdpDirection.SendRecv or SdpDirection.SendOnly;
        var clientReceives = offered.Direction is SdpDirection.SendRecv or SdpDirection.RecvOnly;
        var nodeReceives = clientSends && parameters.AcceptIncomingMedia;

        // A section the client only receives on is answered sendonly even while it carries nothing yet (no a=ssrc):
        // its direction then never changes when a stream comes or goes, which peers such as webrtcbin cannot handle
        // ("transceiver direction changes are not implemented"), and DTLS completes although nothing is published.
        var nodeSends = clientReceives && (outgoing is not null || !nodeReceives);
        media.Direction = (nodeSends, nodeReceives) switch
        {
            (true, true) => SdpDirection.SendRecv,
            (true, false) => SdpDirection.SendOnly,
            (false, true) => SdpDirection.RecvOnly,
            _ => SdpDirection.Inactive,
        };

        // Simulcast (RFC 8853): the publisher's encodings are received as offered, each told apart by its RID.
        if (nodeReceives && offered.Kind == "video" && SdpSimulcast.TryReadSendLayers(offered, out var rids))
        {
            foreach (var extension in offered.Extensions)
            {
                if (extension.Uri == RtpExtensionUris.Rid)
                {
                    SdpSimulcast.AddReceiveAnswer(media, rids);
                    break;
                }
            }
        }

        if (nodeSends && outgoing is not null)
        {
            var msid = $"{outgoing.StreamId} {outgoing.TrackId}";
            media.Msids.Add(msid);
            var ssrc = new SdpSsrc(outgoing.Ssrc);
            ssrc.Attributes.Add(new SdpAttribute("cname", outgoing.Cname));
            ssrc.Attributes.Add(new SdpAttribute("msid", msid));
            media.Ssrcs.Add(ssrc);
            if (rtx is not null && outgoing.RtxSsrc != 0 && outgoing.RtxSsrc != outgoing.Ssrc)
            {
                // RFC 5576 §4.2 / RFC 4588 §8.3: the retransmission stream, paired with the stream it repairs.
                media.SsrcGroups.Add(new SdpSsrcGroup("FID", [outgoing.Ssrc, outgoing.RtxSsrc]));
                var repair = new SdpSsrc(outgoing.RtxSsrc);
                repair.Attributes.Add(new SdpAttribute("cname", outgoing.Cname));
                repair.Attributes.Add(new SdpAttribute("msid", msid));
                media.Ssrcs.Add(repair);
            }
        }

        return media;
    }

    private static SdpCodec? ChooseAudio(MediaDescription offered)
    {
        foreach (var codec in offered.Codecs)
        {
            // RFC 7587 says opus/48000/2; webrtcbin 1.22 offers "OPUS/48000" for a receive-only transceiver.
            if (string.Equals(codec.Name, "opus", StringComparison.OrdinalIgnoreCase) && codec.ClockRate == 48000 && codec.Channels is null or 2)
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
