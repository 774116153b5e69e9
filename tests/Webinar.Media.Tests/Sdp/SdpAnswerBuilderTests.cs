using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;

namespace Webinar.Media.Tests.Sdp;

public sealed class SdpAnswerBuilderTests
{
    private static readonly DtlsCertificate NodeCertificate = DtlsCertificate.Generate();

    private static SdpAnswerParameters Parameters(IReadOnlyDictionary<string, SdpOutgoingStream>? outgoing = null, bool acceptIncoming = true) =>
        new("nodeUfrag", "nodePasswordOf24Chars!!x", NodeCertificate.Fingerprint, IPAddress.Parse("203.0.113.7"), 40000)
        {
            SessionId = 42,
            SessionVersion = 3,
            AcceptIncomingMedia = acceptIncoming,
            OutgoingStreams = outgoing ?? new Dictionary<string, SdpOutgoingStream>(),
        };

    private static SessionDescription Offer()
    {
        Assert.True(SdpParser.TryParse(SdpFixtures.ChromiumOffer, out var offer, out var error), error);
        return offer;
    }

    /// <summary>Builds the answer, writes it, and parses the text back, as the browser would receive it.</summary>
    private static SessionDescription AnswerRoundTrip(SessionDescription offer, SdpAnswerParameters parameters)
    {
        Assert.True(SdpAnswerBuilder.TryBuild(offer, parameters, out var answer, out var error), error);
        var text = SdpWriter.Write(answer);
        Assert.True(SdpParser.TryParse(text, out var parsed, out error), error);
        return parsed;
    }

    private static readonly SdpOutgoingStream PresenterVideo = new(0x11223344, "node-cname", "presenter-1", "video-1");

    [Fact]
    public void Answer_is_ice_lite_bundled_passive_with_one_transport_for_every_m_line()
    {
        var answer = AnswerRoundTrip(Offer(), Parameters());

        Assert.True(answer.IceLite);
        Assert.Equal("42", answer.Origin.SessionId);
        Assert.Equal(3UL, answer.Origin.SessionVersion);
        Assert.Equal(3, answer.Media.Count);
        foreach (var media in answer.Media.Where(m => !m.IsRejected))
        {
            Assert.Equal("nodeUfrag", media.IceUfrag);
            Assert.Equal("nodePasswordOf24Chars!!x", media.IcePwd);
            Assert.Equal(NodeCertificate.Fingerprint.ToString(), media.Fingerprint);
            Assert.StartsWith("sha-256 ", media.Fingerprint, StringComparison.Ordinal);
            Assert.Equal("passive", media.Setup);
            Assert.True(media.RtcpMux);
            Assert.True(media.RtcpRsize);
            Assert.Equal(40000, media.Port);
            Assert.Equal("IN IP4 203.0.113.7", media.Connection);
            var candidate = Assert.Single(media.Candidates);
            Assert.Equal(new SdpCandidate("1", 1, "udp", 2130706431, "203.0.113.7", 40000, "host"), candidate);
            Assert.True(media.EndOfCandidates);
        }
    }

    [Fact]
    public void Bundle_group_lists_every_accepted_mid_in_offer_order()
    {
        var answer = AnswerRoundTrip(Offer(), Parameters());

        Assert.Equal(["0", "1", "2"], answer.FindGroup("BUNDLE")!.Mids);
        Assert.Equal(["0", "1", "2"], answer.Media.Select(m => m.Mid));
    }

    [Fact]
    public void Candidate_line_is_written_exactly_as_browsers_expect()
    {
        Assert.True(SdpAnswerBuilder.TryBuild(Offer(), Parameters(), out var answer, out _));

        var text = SdpWriter.Write(answer);

        Assert.Contains("\r\na=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\na=end-of-candidates\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\na=ice-lite\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\na=group:BUNDLE 0 1 2\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Audio_is_answered_with_opus_at_the_offered_payload_type_and_its_fmtp()
    {
        var audio = AnswerRoundTrip(Offer(), Parameters()).Media[0];

        Assert.Equal(["111"], audio.Formats);
        var opus = Assert.Single(audio.Codecs);
        Assert.Equal(("opus", 48000, 2), (opus.Name, opus.ClockRate, opus.Channels));
        Assert.Equal("10", opus.FmtpParameter("minptime"));
        Assert.Equal("1", opus.FmtpParameter("useinbandfec"));
        Assert.Equal(["transport-cc"], opus.Feedback);
    }

    [Fact]
    public void Video_is_answered_with_vp8_its_feedback_and_the_rtx_payload_type_whose_apt_names_it()
    {
        var video = AnswerRoundTrip(Offer(), Parameters()).Media[1];

        // The offer (Chromium) has a=rtpmap:97 rtx/90000 and a=fmtp:97 apt=96.
        Assert.Equal(["96", "97"], video.Formats);
        Assert.Equal(2, video.Codecs.Count);
        var vp8 = video.Codecs[0];
        Assert.Equal(("VP8", 90000), (vp8.Name, vp8.ClockRate));
        Assert.Equal(["nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"], vp8.Feedback);
        var rtx = video.Codecs[1];
        Assert.Equal((97, "rtx", 90000, "96"), (rtx.PayloadType, rtx.Name, rtx.ClockRate, rtx.FmtpParameter("apt")));
        Assert.Empty(rtx.Feedback);
        Assert.Empty(video.SsrcGroups);
        Assert.Single(AnswerRoundTrip(Offer(), Parameters()).Media[0].Codecs); // audio: no rtx
    }

    [Fact]
    public void An_offer_without_rtx_for_the_chosen_codec_gets_no_rtx_and_no_fid_group()
    {
        var offer = Offer();
        foreach (var media in offer.Media)
        {
            // Keep rtx only for another codec (apt=102, H264): nothing repairs VP8.
            media.Codecs.RemoveAll(c => c.Name == "rtx" && c.FmtpParameter("apt") != "102");
            media.Extensions.Add(new SdpExtmap(12, null, RtpExtensionUris.RepairedRid));
        }

        var outgoing = new Dictionary<string, SdpOutgoingStream> { ["2"] = PresenterVideo with { RtxSsrc = 0x55667788 } };
        var answer = AnswerRoundTrip(offer, Parameters(outgoing));

        foreach (var media in answer.Media)
        {
            Assert.DoesNotContain(media.Codecs, c => c.Name == "rtx");
            Assert.Empty(media.SsrcGroups);
            Assert.DoesNotContain(media.Extensions, e => e.Uri == RtpExtensionUris.RepairedRid);
        }

        Assert.Equal([0x11223344u], answer.Media[2].Ssrcs.Select(s => s.Ssrc));
    }

    [Fact]
    public void A_stream_the_node_sends_with_rtx_is_announced_with_a_fid_group_and_both_ssrcs_under_one_cname_and_msid()
    {
        var outgoing = new Dictionary<string, SdpOutgoingStream> { ["2"] = PresenterVideo with { RtxSsrc = 0x55667788 } };

        var media = AnswerRoundTrip(Offer(), Parameters(outgoing)).Media[2];

        var group = Assert.Single(media.SsrcGroups);
        Assert.Equal("FID", group.Semantics);
        Assert.Equal([0x11223344u, 0x55667788u], group.Ssrcs);
        Assert.Equal([0x11223344u, 0x55667788u], media.Ssrcs.Select(s => s.Ssrc));
        Assert.All(media.Ssrcs, s => Assert.Equal(("node-cname", "presenter-1 video-1"), (s.Cname, s.Msid)));
        Assert.Equal(97, SdpRtx.TryGetPayloadType(media, 96, out var pt) ? pt : -1);
        Assert.Equal(0x55667788u, SdpRtx.RetransmissionSsrcOf(media, 0x11223344));
    }

    [Fact]
    public void The_repaired_rid_extension_is_accepted_on_a_video_section_that_negotiates_rtx()
    {
        var offer = Offer();
        offer.Media[1].Extensions.Add(new SdpExtmap(12, null, RtpExtensionUris.RepairedRid));
        offer.Media[0].Extensions.Add(new SdpExtmap(12, null, RtpExtensionUris.RepairedRid));

        var answer = AnswerRoundTrip(offer, Parameters());

        Assert.Contains(new SdpExtmap(12, null, RtpExtensionUris.RepairedRid), answer.Media[1].Extensions);
        Assert.DoesNotContain(answer.Media[0].Extensions, e => e.Uri == RtpExtensionUris.RepairedRid);
    }

    [Fact]
    public void H264_is_chosen_when_vp8_is_absent_preferring_constrained_baseline_mode_1()
    {
        var offer = Offer();
        var video = offer.Media[1];
        video.Codecs.RemoveAll(c => c.Name == "VP8");
        video.Formats.Remove("96");

        var answered = AnswerRoundTrip(offer, Parameters()).Media[1];

        var h264 = answered.Codecs[0];
        Assert.Equal("H264", h264.Name);
        var rtx = Assert.Single(answered.Codecs, c => c.Name == "rtx");
        Assert.Equal(h264.PayloadType.ToString(System.Globalization.CultureInfo.InvariantCulture), rtx.FmtpParameter("apt"));
        Assert.Equal("1", h264.FmtpParameter("packetization-mode"));
        Assert.Equal("42e01f", h264.FmtpParameter("profile-level-id"));
        Assert.Equal(video.Codecs.First(c => c.Name == "H264" && c.Fmtp!.Contains("42e01f", StringComparison.Ordinal) && c.Fmtp.Contains("packetization-mode=1", StringComparison.Ordinal)).PayloadType, h264.PayloadType);
    }

    [Fact]
    public void Header_extensions_are_the_supported_ones_with_the_offered_ids()
    {
        var answer = AnswerRoundTrip(Offer(), Parameters());

        Assert.Equal(
            [new SdpExtmap(1, null, RtpExtensionUris.AudioLevel), new SdpExtmap(2, null, RtpExtensionUris.AbsSendTime), new SdpExtmap(3, null, RtpExtensionUris.TransportWideSequenceNumber), new SdpExtmap(4, null, RtpExtensionUris.Mid)],
            answer.Media[0].Extensions);
        // Video keeps the RID element even without simulcast: Chromium offers a later simulcast section only with
        // the extensions the session negotiated, and refuses its own offer without the RID one.
        // The repaired RID (id 11) comes with rtx, which the offer has for VP8.
        Assert.Equal(
            [new SdpExtmap(2, null, RtpExtensionUris.AbsSendTime), new SdpExtmap(3, null, RtpExtensionUris.TransportWideSequenceNumber), new SdpExtmap(4, null, RtpExtensionUris.Mid), new SdpExtmap(10, null, RtpExtensionUris.Rid), new SdpExtmap(11, null, RtpExtensionUris.RepairedRid)],
            answer.Media[1].Extensions);
    }

    [Fact]
    public void Directions_follow_the_node_view_of_each_m_line()
    {
        var offer = Offer();
        offer.Media[0].Direction = SdpDirection.SendOnly;
        var outgoing = new Dictionary<string, SdpOutgoingStream> { ["2"] = PresenterVideo };

        var answer = AnswerRoundTrip(offer, Parameters(outgoing));

        Assert.Equal(SdpDirection.RecvOnly, answer.Media[0].Direction);   // client sends only → node receives
        Assert.Equal(SdpDirection.RecvOnly, answer.Media[1].Direction);   // sendrecv, node has nothing to send there
        Assert.Equal(SdpDirection.SendOnly, answer.Media[2].Direction);   // client receives only → node sends
        Assert.Empty(answer.Media[0].Ssrcs);
        Assert.Empty(answer.Media[0].Msids);
    }

    [Fact]
    public void A_sendonly_answer_carries_the_node_ssrc_cname_and_msid()
    {
        var outgoing = new Dictionary<string, SdpOutgoingStream> { ["2"] = PresenterVideo };

        var media = AnswerRoundTrip(Offer(), Parameters(outgoing)).Media[2];

        Assert.Equal(["presenter-1 video-1"], media.Msids);
        var ssrc = Assert.Single(media.Ssrcs);
        Assert.Equal(0x11223344u, ssrc.Ssrc);
        Assert.Equal("node-cname", ssrc.Cname);
        Assert.Equal("presenter-1 video-1", ssrc.Msid);
    }

    [Fact]
    public void Sendrecv_with_an_outgoing_stream_is_answered_sendrecv_and_without_publish_rights_sendonly()
    {
        var outgoing = new Dictionary<string, SdpOutgoingStream> { ["1"] = PresenterVideo };

        Assert.Equal(SdpDirection.SendRecv, AnswerRoundTrip(Offer(), Parameters(outgoing)).Media[1].Direction);
        Assert.Equal(SdpDirection.SendOnly, AnswerRoundTrip(Offer(), Parameters(outgoing, acceptIncoming: false)).Media[1].Direction);
        var unused = AnswerRoundTrip(Offer(), Parameters(acceptIncoming: false)).Media[0];
        Assert.Equal(SdpDirection.SendOnly, unused.Direction);
        Assert.Empty(unused.Ssrcs);
    }

    [Fact]
    public void A_recvonly_line_the_node_has_nothing_for_is_sendonly_without_ssrc_so_its_direction_never_changes()
    {
        var empty = AnswerRoundTrip(Offer(), Parameters()).Media[2];
        var filled = AnswerRoundTrip(Offer(), Parameters(new Dictionary<string, SdpOutgoingStream> { ["2"] = PresenterVideo })).Media[2];

        Assert.Equal(SdpDirection.SendOnly, empty.Direction);
        Assert.Empty(empty.Ssrcs);
        Assert.Empty(empty.Msids);
        Assert.Equal(SdpDirection.SendOnly, filled.Direction);
        Assert.Single(filled.Ssrcs);
    }

    [Fact]
    public void A_webrtcbin_max_bundle_offer_gets_every_bundle_only_section_into_the_bundle_with_the_transport()
    {
        Assert.True(SdpParser.TryParse(SdpFixtures.WebRtcBinPublishOffer, out var offer, out var error), error);
        Assert.True(offer.Media[1].BundleOnly);
        Assert.Equal(0, offer.Media[1].Port);

        var answer = AnswerRoundTrip(offer, Parameters());

        Assert.Equal(["video0", "audio1"], answer.FindGroup("BUNDLE")!.Mids);
        foreach (var media in answer.Media)
        {
            Assert.Equal(40000, media.Port);
            Assert.Equal("nodeUfrag", media.IceUfrag);
            Assert.Equal(SdpDirection.RecvOnly, media.Direction);
            Assert.False(media.BundleOnly);
        }

        Assert.Equal("OPUS", answer.Media[1].Codecs.Single().Name, ignoreCase: true);
    }

    [Fact]
    public void The_transport_is_also_at_session_level_so_one_rejected_section_leaves_it_known()
    {
        var answer = AnswerRoundTrip(Offer(), Parameters());

        Assert.Equal("nodeUfrag", answer.IceUfrag);
        Assert.Equal("nodePasswordOf24Chars!!x", answer.IcePwd);
        Assert.Equal(NodeCertificate.Fingerprint.ToString(), answer.Fingerprint);
        Assert.Equal("passive", answer.Setup);
    }

    [Fact]
    public void A_webrtcbin_receive_offer_with_opus_and_no_channel_count_is_answered_opus_stereo_sendonly()
    {
        Assert.True(SdpParser.TryParse(SdpFixtures.WebRtcBinReceiveOffer, out var offer, out var error), error);

        var answer = AnswerRoundTrip(offer, Parameters());

        var audio = answer.Media[0].Codecs.Single();
        Assert.Equal(48000, audio.ClockRate);
        Assert.Equal(2, audio.Channels);
        Assert.All(answer.Media, m => Assert.Equal(SdpDirection.SendOnly, m.Direction));
        Assert.Equal(2, answer.FindGroup("BUNDLE")!.Mids.Count);
    }

    [Theory]
    [InlineData("a=mid:0", "a=mid:<script>")]
    [InlineData("a=mid:0", "a=mid:abcdefghijklmnopq")]
    [InlineData("a=mid:0", "a=mid:a b")]
    [InlineData("a=mid:0", "a=mid:x\u00e9")]
    public void A_mid_that_is_not_a_short_token_is_refused(string mid, string replacement)
    {
        var text = SdpFixtures.ChromiumOffer.Replace(mid + "\r\n", System.Text.RegularExpressions.Regex.Unescape(replacement) + "\r\n", StringComparison.Ordinal)
            .Replace("BUNDLE 0 ", "BUNDLE " + System.Text.RegularExpressions.Regex.Unescape(replacement)[6..] + " ", StringComparison.Ordinal);
        Assert.True(SdpParser.TryParse(text, out var offer, out var error), error);

        Assert.False(SdpAnswerBuilder.TryBuild(offer, Parameters(), out _, out error));
        Assert.Contains("a=mid", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("audio1")]
    [InlineData("sixteen-chars-ok")]
    [InlineData("a.b_c~d!e#f$g%h")]
    public void Short_token_mids_are_valid(string mid) => Assert.True(SdpMid.IsValid(mid));

    [Fact]
    public void Unsupported_m_lines_are_rejected_with_port_zero_and_left_out_of_bundle()
    {
        const string offerText =
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v d\r\n" +
            "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=ice-ufrag:uf\r\na=ice-pwd:passwordpasswordpassword\r\n" +
            "a=fingerprint:sha-256 " + "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" + "\r\na=setup:actpass\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n" +
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:d\r\na=sctp-port:5000\r\n";
        Assert.True(SdpParser.TryParse(offerText, out var offer, out var error), error);

        var answer = AnswerRoundTrip(offer, Parameters());

        Assert.Equal(0, answer.Media[0].Port);                 // no Opus
        Assert.Equal(["0"], answer.Media[0].Formats);
        Assert.Equal(40000, answer.Media[1].Port);
        Assert.Equal(0, answer.Media[2].Port);                 // no data channels
        Assert.Equal(["webrtc-datachannel"], answer.Media[2].Formats);
        Assert.Equal("d", answer.Media[2].Mid);
        Assert.Equal(["v"], answer.FindGroup("BUNDLE")!.Mids);
        Assert.Empty(answer.Media[0].Candidates);
    }

    [Theory]
    [InlineData("a=setup:passive", "setup")]
    [InlineData("a=fingerprint:md5 AB", "fingerprint")]
    [InlineData("a=ice-ufrag:", "SDP line")]
    public void Offers_the_node_cannot_answer_are_refused_with_a_reason(string replacement, string expected)
    {
        var text = SdpFixtures.ChromiumOffer;
        var name = replacement[..replacement.IndexOf(':', StringComparison.Ordinal)];
        var lines = text.Split("\r\n").Select(l => l.StartsWith(name + ":", StringComparison.Ordinal) ? replacement : l);
        var mutated = string.Join("\r\n", lines);

        var ok = SdpParser.TryParse(mutated, out var offer, out var error)
            && SdpAnswerBuilder.TryBuild(offer, Parameters(), out _, out error);

        Assert.False(ok);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Offer_without_mids_is_refused()
    {
        var offer = Offer();
        offer.Media[1].Mid = null;

        Assert.False(SdpAnswerBuilder.TryBuild(offer, Parameters(), out _, out var error));
        Assert.Contains("a=mid", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Remote_transport_is_read_from_the_offer()
    {
        Assert.True(SdpAnswerBuilder.TryGetRemoteTransport(Offer(), out var transport, out var error), error);

        Assert.Equal("3mW0", transport.IceUfrag);
        Assert.Equal("k7zVkt0N7qSZz5KjCeN61FHN", transport.IcePwd);
        Assert.Equal("actpass", transport.Setup);
        Assert.Equal("sha-256", transport.Fingerprint.Algorithm);
        Assert.StartsWith("sha-256 E9:DE:F3:80", transport.Fingerprint.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Ipv6_candidate_address_gives_ip6_connection_lines()
    {
        var parameters = Parameters() with { CandidateAddress = IPAddress.Parse("2001:db8::7") };

        var media = AnswerRoundTrip(Offer(), parameters).Media[0];

        Assert.Equal("IN IP6 2001:db8::7", media.Connection);
        Assert.Equal("2001:db8::7", media.Candidates[0].Address);
    }

    [Fact]
    public void Mutated_offers_either_build_a_parseable_answer_or_give_an_error()
    {
        var random = new Random(8843);
        var lines = SdpFixtures.ChromiumOffer.Split("\r\n");
        for (var i = 0; i < 1_000; i++)
        {
            var mutated = lines.Where(_ => random.Next(8) != 0).ToArray();
            if (!SdpParser.TryParse(string.Join("\r\n", mutated), out var offer, out _))
            {
                continue;
            }

            if (SdpAnswerBuilder.TryBuild(offer, Parameters(), out var answer, out var error))
            {
                Assert.True(SdpParser.TryParse(SdpWriter.Write(answer), out _, out error), error);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        }
    }
}
