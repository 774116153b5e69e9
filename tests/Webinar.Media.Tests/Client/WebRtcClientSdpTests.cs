using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;

namespace Webinar.Media.Tests.Client;

public sealed class WebRtcClientSdpTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public void Offer_is_unified_plan_with_bundle_transport_codecs_feedback_extensions_and_sending_ssrcs()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate, Cname = "pub-1" });
        var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var slot = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);

        Assert.True(SdpParser.TryParse(client.CreateOffer(), out var offer, out string error), error);

        Assert.Equal(["0", "1", "2"], offer.FindGroup("BUNDLE")!.Mids);
        Assert.Equal(3, offer.Media.Count);
        foreach (var media in offer.Media)
        {
            Assert.Equal("UDP/TLS/RTP/SAVPF", media.Protocol);
            Assert.True(media.RtcpMux);
            Assert.Equal("actpass", media.Setup);
            Assert.Equal(client.LocalIceCredentials.Ufrag, media.IceUfrag);
            Assert.Equal(client.LocalIceCredentials.Password, media.IcePwd);
            Assert.Equal(Certificate.Fingerprint.ToString(), media.Fingerprint);
            var candidate = Assert.Single(media.Candidates);
            Assert.Equal(("udp", "127.0.0.1", client.LocalEndPoint.Port, "host"), (candidate.Transport, candidate.Address, candidate.Port, candidate.Type));
            Assert.Equal(
                [RtpExtensionUris.Mid, RtpExtensionUris.AbsSendTime, RtpExtensionUris.TransportWideSequenceNumber],
                media.Extensions.Select(e => e.Uri));
        }

        var opus = Assert.Single(offer.Media[0].Codecs);
        Assert.Equal((111, "opus", 48000, (int?)2), (opus.PayloadType, opus.Name, opus.ClockRate, opus.Channels));
        Assert.Contains("transport-cc", opus.Feedback);
        var vp8 = Assert.Single(offer.Media[1].Codecs);
        Assert.Equal((96, "VP8", 90000), (vp8.PayloadType, vp8.Name, vp8.ClockRate));
        Assert.Equal(["nack", "nack pli", "transport-cc"], vp8.Feedback);

        Assert.Equal(SdpDirection.SendOnly, offer.Media[0].Direction);
        Assert.Equal(SdpDirection.SendOnly, offer.Media[1].Direction);
        Assert.Equal(SdpDirection.RecvOnly, offer.Media[2].Direction);
        var audioSsrc = Assert.Single(offer.Media[0].Ssrcs);
        Assert.Equal(audio.Ssrc, audioSsrc.Ssrc);
        Assert.Equal("pub-1", audioSsrc.Cname);
        Assert.Equal($"{audio.StreamId} {audio.TrackId}", audioSsrc.Msid);
        Assert.Equal(video.Ssrc, Assert.Single(offer.Media[1].Ssrcs).Ssrc);
        Assert.NotEqual(audio.Ssrc, video.Ssrc);
        Assert.Empty(offer.Media[2].Ssrcs);
        Assert.True(slot.Receives);
    }

    [Fact]
    public void Answer_gives_payload_types_remote_ssrcs_dtls_role_and_candidate()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();

        Assert.True(client.TryApplyAnswer(Answer(setup: "passive"), out string error), error);

        Assert.Equal(Webinar.Media.Dtls.DtlsRole.Client, client.DtlsRole);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.1"), 40000), client.RemoteEndPoint);
        Assert.Equal(109, audio.PayloadType);
        Assert.Equal(100, video.PayloadType);
        Assert.Equal([1111u], audio.RemoteSsrcs);
        Assert.Equal([2222u], video.RemoteSsrcs);
        Assert.Equal(ClientTrackDirection.SendOnly, audio.Direction); // the answer only receives on mid 0
        Assert.Equal(ClientTrackDirection.RecvOnly, video.Direction);
        Assert.Equal(WebRtcClientState.Connecting, client.State);
    }

    [Fact]
    public void An_answer_saying_active_makes_the_client_the_dtls_server()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();
        Assert.True(client.TryApplyAnswer(Answer(setup: "active"), out string error), error);
        Assert.Equal(Webinar.Media.Dtls.DtlsRole.Server, client.DtlsRole);
    }

    [Fact]
    public void A_later_answer_renegotiates_tracks_added_after_the_first_without_restarting_the_transport()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        var slot = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();
        Assert.True(client.TryApplyAnswer(Answer("passive").Replace("a=mid:1\r\na=sendrecv", "a=mid:1\r\na=inactive"), out string error), error);
        Assert.Equal(ClientTrackDirection.Inactive, slot.Direction);

        var sending = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var offer = Webinar.Media.Sdp.SdpParser.TryParse(client.CreateOffer(), out var parsed, out _) ? parsed : null;
        Assert.NotNull(offer);
        Assert.Equal(3, offer.Media.Count);
        Assert.Equal(Webinar.Media.Sdp.SdpDirection.RecvOnly, offer.Media[1].Direction); // asked again, whatever the last answer said
        Assert.Equal(Webinar.Media.Sdp.SdpDirection.SendOnly, offer.Media[2].Direction);

        Assert.True(client.TryApplyAnswer(AnswerWithThirdLine("passive", "a=recvonly"), out error), error);

        Assert.Equal("2", sending.Mid);
        Assert.Equal(ClientTrackDirection.SendOnly, sending.Direction);
        Assert.Equal(ClientTrackDirection.RecvOnly, slot.Direction);
        Assert.Equal(WebRtcClientState.Connecting, client.State);
    }

    [Fact]
    public void A_send_track_offered_inactive_is_offered_and_answered_inactive()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();
        Assert.True(client.TryApplyAnswer(Answer("passive"), out string error), error);

        audio.OfferedDirection = ClientTrackDirection.Inactive;
        Assert.Contains("a=inactive", client.CreateOffer(), StringComparison.Ordinal);
        Assert.True(client.TryApplyAnswer(Answer("passive").Replace("a=mid:0\r\na=recvonly", "a=mid:0\r\na=inactive"), out error), error);
        Assert.False(audio.Sends);
    }

    [Theory]
    [InlineData("a=ice-ufrag:remote", "a=ice-ufrag:other")]
    [InlineData("a=ice-pwd:remotepasswordremotepassword", "a=ice-pwd:otherpasswordotherpassword")]
    [InlineData("127.0.0.1 40000 typ host", "127.0.0.1 40001 typ host")]
    public void A_renegotiation_answer_that_restarts_ice_is_refused_and_the_tracks_stay(string original, string replacement)
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();
        Assert.True(client.TryApplyAnswer(Answer("passive"), out string error), error);
        var added = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        client.CreateOffer();

        Assert.False(client.TryApplyAnswer(AnswerWithThirdLine("passive", "a=recvonly").Replace(original, replacement), out error));

        Assert.Contains("restart", error, StringComparison.Ordinal);
        Assert.Equal(ClientTrackDirection.SendOnly, added.Direction); // untouched: never answered
        Assert.Equal(WebRtcClientState.Connecting, client.State);
    }

    [Theory]
    [InlineData("a=ice-ufrag:remote\r\n", "ice-ufrag")]
    [InlineData("a=fingerprint:", "fingerprint")]
    [InlineData("a=candidate:", "candidate")]
    [InlineData("a=setup:passive\r\n", "setup")]
    [InlineData("a=mid:1\r\n", "mid 1")]
    [InlineData("v=0\r\n", "v=")]
    public void Unusable_answers_are_refused_with_a_reason_and_nothing_starts(string removedLine, string expectedInError)
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.CreateOffer();
        string answer = Answer("passive");
        answer = removedLine switch
        {
            "a=setup:passive\r\n" => answer.Replace("a=setup:passive", "a=setup:actpass"),
            "a=fingerprint:" or "a=candidate:" => string.Join("\r\n", answer.Split("\r\n").Where(l => !l.StartsWith(removedLine, StringComparison.Ordinal))),
            _ => answer.Replace(removedLine, ""),
        };

        Assert.False(client.TryApplyAnswer(answer, out string error));
        Assert.Contains(expectedInError, error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(WebRtcClientState.New, client.State);
    }

    [Fact]
    public void Accepting_a_remote_offer_answers_active_and_receives_every_opus_and_vp8_line()
    {
        using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
        string offer = Answer("actpass").Replace("a=recvonly", "a=sendonly").Replace("a=sendrecv", "a=sendonly");

        Assert.True(client.TryAcceptOffer(offer, out string answerText, out string error), error);

        Assert.True(SdpParser.TryParse(answerText, out var answer, out error), error);
        Assert.Equal(Webinar.Media.Dtls.DtlsRole.Client, client.DtlsRole);
        Assert.All(answer.Media, m => Assert.Equal("active", m.Setup));
        Assert.All(answer.Media, m => Assert.Equal(SdpDirection.RecvOnly, m.Direction));
        Assert.Equal(["0", "1"], answer.FindGroup("BUNDLE")!.Mids);
        Assert.Equal(109, answer.Media[0].Codecs.Single().PayloadType);
        Assert.Equal(100, answer.Media[1].Codecs.Single().PayloadType);
        Assert.Equal([1111u], client.Tracks[0].RemoteSsrcs);
        Assert.All(client.Tracks, t => Assert.Equal(ClientTrackDirection.RecvOnly, t.Direction));
    }

    [Fact]
    public void Random_and_mutated_remote_descriptions_are_refused_cleanly_never_thrown()
    {
        var random = new Random(7);
        string valid = Answer("passive");
        for (int i = 0; i < 300; i++)
        {
            char[] text = valid.ToCharArray();
            for (int m = 0; m < 1 + random.Next(6); m++)
            {
                text[random.Next(text.Length)] = (char)random.Next(9, 127);
            }

            using var client = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
            client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
            client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
            client.CreateOffer();
            client.TryApplyAnswer(new string(text), out _);
            using var answering = new WebRtcClient(new WebRtcClientOptions { Certificate = Certificate });
            answering.TryAcceptOffer(new string(text), out _, out _);
        }
    }

    private static string AnswerWithThirdLine(string setup, string direction) =>
        Answer(setup).Replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2") + string.Join("\r\n",
            "m=video 40000 UDP/TLS/RTP/SAVPF 100",
            "c=IN IP4 127.0.0.1",
            "a=mid:2",
            direction,
            "a=rtcp-mux",
            "a=ice-ufrag:remote",
            "a=ice-pwd:remotepasswordremotepassword",
            "a=fingerprint:" + Certificate.Fingerprint,
            "a=setup:" + setup,
            "a=rtpmap:100 VP8/90000",
            "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
            "");

    private static string Answer(string setup) => string.Join("\r\n",
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=ice-lite",
        "m=audio 40000 UDP/TLS/RTP/SAVPF 109",
        "c=IN IP4 127.0.0.1",
        "a=mid:0",
        "a=recvonly",
        "a=rtcp-mux",
        "a=ice-ufrag:remote",
        "a=ice-pwd:remotepasswordremotepassword",
        "a=fingerprint:" + Certificate.Fingerprint,
        "a=setup:" + setup,
        "a=rtpmap:109 opus/48000/2",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=ssrc:1111 cname:remote",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
        "m=video 40000 UDP/TLS/RTP/SAVPF 100",
        "c=IN IP4 127.0.0.1",
        "a=mid:1",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=ice-ufrag:remote",
        "a=ice-pwd:remotepasswordremotepassword",
        "a=fingerprint:" + Certificate.Fingerprint,
        "a=setup:" + setup,
        "a=rtpmap:100 VP8/90000",
        "a=rtcp-fb:100 nack",
        "a=ssrc:2222 cname:remote",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
        "") ;
}
