using Webinar.Media.Sdp;

namespace Webinar.Media.Tests.Sdp;

public sealed class SdpParserTests
{
    private static SessionDescription ParseChromiumOffer()
    {
        Assert.True(SdpParser.TryParse(SdpFixtures.ChromiumOffer, out var offer, out var error), error);
        return offer;
    }

    [Fact]
    public void Parses_the_session_level_of_a_real_chromium_offer()
    {
        var offer = ParseChromiumOffer();

        Assert.Equal("-", offer.Origin.Username);
        Assert.Equal("1035357338427774270", offer.Origin.SessionId);
        Assert.Equal(2UL, offer.Origin.SessionVersion);
        Assert.Equal(["0", "1", "2"], offer.FindGroup("BUNDLE")!.Mids);
        Assert.True(offer.ExtmapAllowMixed);
        Assert.False(offer.IceLite);
        Assert.Equal("WMS c2e942d1-737b-4d06-803c-b6fdcf6cbd63", offer.MsidSemantic);
        Assert.Equal(3, offer.Media.Count);
    }

    [Fact]
    public void Parses_the_audio_section_of_a_real_chromium_offer()
    {
        var audio = ParseChromiumOffer().Media[0];

        Assert.Equal("audio", audio.Kind);
        Assert.Equal(34480, audio.Port);
        Assert.Equal("UDP/TLS/RTP/SAVPF", audio.Protocol);
        Assert.Equal("0", audio.Mid);
        Assert.Equal(SdpDirection.SendRecv, audio.Direction);
        Assert.Equal("3mW0", audio.IceUfrag);
        Assert.Equal("k7zVkt0N7qSZz5KjCeN61FHN", audio.IcePwd);
        Assert.StartsWith("sha-256 E9:DE:F3", audio.Fingerprint, StringComparison.Ordinal);
        Assert.Equal("actpass", audio.Setup);
        Assert.True(audio.RtcpMux);
        Assert.True(audio.RtcpRsize);
        Assert.Equal(["111", "63", "9", "0", "8", "13", "110", "126"], audio.Formats);

        var opus = audio.FindCodec(111)!;
        Assert.Equal("opus", opus.Name);
        Assert.Equal(48000, opus.ClockRate);
        Assert.Equal(2, opus.Channels);
        Assert.Equal("1", opus.FmtpParameter("useinbandfec"));
        Assert.Contains("transport-cc", opus.Feedback);

        Assert.Contains(new SdpExtmap(4, null, "urn:ietf:params:rtp-hdrext:sdes:mid"), audio.Extensions);
        Assert.Contains(new SdpExtmap(1, null, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), audio.Extensions);

        var ssrc = Assert.Single(audio.Ssrcs);
        Assert.Equal(1000836974u, ssrc.Ssrc);
        Assert.Equal("nkiTqfAVOsuosWz2", ssrc.Cname);
        Assert.Equal("c2e942d1-737b-4d06-803c-b6fdcf6cbd63 5edbca33-0fc9-46dd-b9e6-eab663079bad", ssrc.Msid);
        Assert.Equal(["c2e942d1-737b-4d06-803c-b6fdcf6cbd63 5edbca33-0fc9-46dd-b9e6-eab663079bad"], audio.Msids);

        Assert.Equal(4, audio.Candidates.Count);
        var host = audio.Candidates[0];
        Assert.Equal(new SdpCandidate("2428925610", 1, "udp", 2122194687, "192.0.2.2", 34480, "host", "generation 0 network-id 1"), host);
        Assert.Contains(audio.OtherAttributes, a => a.Name == "rtcp-xr");
    }

    [Fact]
    public void Parses_the_video_sections_of_a_real_chromium_offer()
    {
        var offer = ParseChromiumOffer();
        var video = offer.Media[1];
        var recvOnly = offer.Media[2];

        Assert.Equal("video", video.Kind);
        var vp8 = video.FindCodec(96)!;
        Assert.Equal("VP8", vp8.Name);
        Assert.Equal(90000, vp8.ClockRate);
        Assert.Null(vp8.Channels);
        Assert.Equal(["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"], vp8.Feedback);
        Assert.Equal("96", video.FindCodec(97)!.FmtpParameter("apt"));

        var fid = Assert.Single(video.SsrcGroups);
        Assert.Equal("FID", fid.Semantics);
        Assert.Equal([1603373158u, 2955453118u], fid.Ssrcs);
        Assert.Equal(2, video.Ssrcs.Count);

        Assert.Equal("2", recvOnly.Mid);
        Assert.Equal(SdpDirection.RecvOnly, recvOnly.Direction);
        Assert.Empty(recvOnly.Ssrcs);
        Assert.Empty(recvOnly.Msids);
    }

    [Fact]
    public void Write_then_parse_gives_back_the_same_model()
    {
        var offer = ParseChromiumOffer();

        var text = SdpWriter.Write(offer);
        Assert.True(SdpParser.TryParse(text, out var again, out var error), error);

        Assert.Equal(text, SdpWriter.Write(again));
        Assert.Equal(SdpFixtures.ChromiumOffer.Split('\n').Length, text.Split('\n').Length);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_bare_lf_line_endings_and_unknown_attributes_and_line_types()
    {
        const string text = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\ni=info\nt=0 0\na=x-unknown:42\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:a\na=x-custom\nz=0\n";

        Assert.True(SdpParser.TryParse(text, out var sdp, out var error), error);

        Assert.Contains(new SdpAttribute("x-unknown", "42"), sdp.OtherAttributes);
        Assert.Contains(new SdpAttribute("x-custom", null), sdp.Media[0].OtherAttributes);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 1")]
    [InlineData("v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", "line 1")]
    [InlineData("v=0\r\ns=-\r\n", "line 2")]
    [InlineData("v=0\r\no=- 1 x IN IP4 0.0.0.0\r\ns=-\r\n", "line 2")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n", "line 3")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "ends before")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nthis is not sdp\r\n", "line 4")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio\r\n", "line 4")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n", "line 4")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 128\r\n", "line 4")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:96 opus/48000/2\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=extmap:15 urn:x\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=ssrc:-1 cname:x\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=candidate:1 1 udp 1 1.2.3.4 9 host\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=setup:sideways\r\n", "line 5")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\na=mid:b\r\n", "line 6")]
    public void Rejects_malformed_structure_with_an_error_naming_the_problem(string? text, string expected)
    {
        Assert.False(SdpParser.TryParse(text, out _, out var error));

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_text_never_throws()
    {
        var random = new Random(8866);
        const string alphabet = "vosmatcb=:/ \r\n0123456789abcdefIPN*-.";
        for (var i = 0; i < 5_000; i++)
        {
            var chars = new char[random.Next(0, 400)];
            for (var c = 0; c < chars.Length; c++)
            {
                chars[c] = random.Next(20) == 0 ? (char)random.Next(0, 0xFFFF) : alphabet[random.Next(alphabet.Length)];
            }

            var text = new string(chars);
            if (!SdpParser.TryParse(text, out _, out var error))
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }
    }

    [Fact]
    public void Webrtcbin_bundle_only_sections_parse_and_write_back()
    {
        Assert.True(SdpParser.TryParse(SdpFixtures.WebRtcBinPublishOffer, out var sdp, out var error), error);
        Assert.False(sdp.Media[0].BundleOnly);
        Assert.True(sdp.Media[1].BundleOnly);
        Assert.False(sdp.Media[1].IsRejected);

        Assert.True(SdpParser.TryParse(SdpWriter.Write(sdp), out var again, out error), error);
        Assert.True(again.Media[1].BundleOnly);
    }

    [Fact]
    public void An_sdp_with_more_m_sections_than_the_limit_is_refused_naming_the_limit()
    {
        var text = new System.Text.StringBuilder("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
        for (var i = 0; i < 5; i++)
        {
            text.Append("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:").Append(i).Append("\r\n");
        }

        Assert.True(SdpParser.TryParse(text.ToString(), new SdpLimits(MaxMediaSections: 5), out _, out var error), error);
        Assert.False(SdpParser.TryParse(text.ToString(), new SdpLimits(MaxMediaSections: 4), out _, out error));
        Assert.Contains("at most 4", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_sdp_with_too_many_ssrc_lines_or_ssrcs_in_one_section_is_refused()
    {
        var head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
        var lines = string.Concat(Enumerable.Range(1, 6).Select(i => $"a=ssrc:{i} cname:x\r\n"));
        var oneSsrc = string.Concat(Enumerable.Range(1, 6).Select(_ => "a=ssrc:7 cname:x\r\n"));

        Assert.True(SdpParser.TryParse(head + lines, new SdpLimits(MaxSsrcLines: 6, MaxSsrcsPerMedia: 6), out _, out var error), error);
        Assert.False(SdpParser.TryParse(head + lines, new SdpLimits(MaxSsrcLines: 5), out _, out error));
        Assert.Contains("a=ssrc", error, StringComparison.Ordinal);
        Assert.False(SdpParser.TryParse(head + lines, new SdpLimits(MaxSsrcsPerMedia: 5), out _, out error));
        Assert.Contains("more than 5 SSRCs", error, StringComparison.Ordinal);
        Assert.True(SdpParser.TryParse(head + oneSsrc, new SdpLimits(MaxSsrcsPerMedia: 1), out _, out error), error);
    }

    [Fact]
    public void The_default_limits_refuse_a_64_KiB_offer_of_hundreds_of_m_sections()
    {
        var text = new System.Text.StringBuilder("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
        for (var i = 0; text.Length < 64 * 1024 - 100; i++)
        {
            text.Append("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:").Append(i).Append("\r\na=recvonly\r\n");
        }

        Assert.False(SdpParser.TryParse(text.ToString(), out _, out var error));
        Assert.Contains($"at most {SdpLimits.Default.MaxMediaSections}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chromium")]
    [InlineData("webrtcbin-publish")]
    [InlineData("webrtcbin-receive")]
    public void Mutated_offers_never_throw_in_the_parser_or_the_answer_builder(string fixture)
    {
        var random = new Random(fixture.Length * 7919);
        var original = fixture switch
        {
            "chromium" => SdpFixtures.ChromiumOffer,
            "webrtcbin-publish" => SdpFixtures.WebRtcBinPublishOffer,
            _ => SdpFixtures.WebRtcBinReceiveOffer,
        };
        var lines = original.Split("\r\n");
        var parameters = new SdpAnswerParameters("nodeUfrag", "nodePasswordOf24Chars!!x", Webinar.Media.Dtls.DtlsCertificate.Generate().Fingerprint,
            System.Net.IPAddress.Loopback, 40000);
        var limits = new SdpLimits(MaxMediaSections: 4, MaxSsrcLines: 8, MaxSsrcsPerMedia: 2);
        for (var i = 0; i < 2_000; i++)
        {
            var mutated = (string[])lines.Clone();
            for (var edits = random.Next(1, 6); edits > 0; edits--)
            {
                var at = random.Next(mutated.Length);
                var line = mutated[at];
                mutated[at] = random.Next(6) switch
                {
                    0 => "",
                    1 when line.Length > 0 => line[..random.Next(line.Length)],
                    2 when line.Length > 0 => line.Remove(random.Next(line.Length), 1).Insert(random.Next(line.Length), ((char)random.Next(0, 0x2FF)).ToString()),
                    3 => mutated[random.Next(mutated.Length)],
                    4 => line + "\r\n" + mutated[random.Next(mutated.Length)].Replace("mid:", "mid:" + random.Next(100), StringComparison.Ordinal),
                    _ => line.Replace(" 0 ", " 9 ", StringComparison.Ordinal).Replace("bundle-only", random.Next(2) == 0 ? "inactive" : "bundle-only", StringComparison.Ordinal),
                };
            }

            var text = string.Join("\r\n", mutated);
            if (!SdpParser.TryParse(text, limits, out var sdp, out var error))
            {
                Assert.Contains("SDP", error, StringComparison.Ordinal);
                continue;
            }

            if (SdpAnswerBuilder.TryBuild(sdp, parameters, out var answer, out error))
            {
                Assert.True(SdpParser.TryParse(SdpWriter.Write(answer), out _, out var again), again);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }
    }

    [Fact]
    public void Mutated_chromium_offers_never_throw_and_what_parses_writes_back()
    {
        var random = new Random(8829);
        var lines = SdpFixtures.ChromiumOffer.Split("\r\n");
        for (var i = 0; i < 3_000; i++)
        {
            var mutated = (string[])lines.Clone();
            for (var edits = random.Next(1, 6); edits > 0; edits--)
            {
                var at = random.Next(mutated.Length);
                var line = mutated[at];
                mutated[at] = random.Next(5) switch
                {
                    0 => "",
                    1 when line.Length > 0 => line[..random.Next(line.Length)],
                    2 when line.Length > 0 => line.Remove(random.Next(line.Length), 1).Insert(random.Next(line.Length), ((char)random.Next(32, 127)).ToString()),
                    3 => mutated[random.Next(mutated.Length)],
                    _ => line.Replace(' ', random.Next(2) == 0 ? ':' : ' ').Replace("96", random.Next(300).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
                };
            }

            var text = string.Join("\r\n", mutated);
            if (SdpParser.TryParse(text, out var sdp, out var error))
            {
                Assert.True(SdpParser.TryParse(SdpWriter.Write(sdp), out _, out var again), again);
            }
            else
            {
                Assert.Contains("SDP", error, StringComparison.Ordinal);
            }
        }
    }
}
