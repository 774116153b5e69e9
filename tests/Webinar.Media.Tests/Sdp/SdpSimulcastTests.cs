using System.Net;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;

namespace Webinar.Media.Tests.Sdp;

public sealed class SdpSimulcastTests
{
    private static readonly DtlsCertificate NodeCertificate = DtlsCertificate.Generate();

    /// <summary>
    /// Chromium's offer with its first video section sending three encodings by RID, as
    /// addTransceiver(track, {sendEncodings: [{rid:'q'}, {rid:'h'}, {rid:'f'}]}) writes it (no a=ssrc lines).
    /// </summary>
    public static string SimulcastOffer()
    {
        var lines = SdpFixtures.ChromiumOffer.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        var video = lines.FindIndex(l => l.StartsWith("m=video", StringComparison.Ordinal));
        var end = lines.FindIndex(video + 1, l => l.StartsWith("m=", StringComparison.Ordinal));
        var section = lines.GetRange(video, end - video)
            .Where(l => !l.StartsWith("a=ssrc", StringComparison.Ordinal))
            .Select(l => l == "a=sendrecv" ? "a=sendonly" : l)
            .Concat(["a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;f"])
            .ToList();
        lines.RemoveRange(video, end - video);
        lines.InsertRange(video, section);
        return string.Join("\r\n", lines);
    }

    private static MediaDescription SimulcastSection(SessionDescription sdp) => sdp.Media.First(m => m.Kind == "video");

    [Fact]
    public void Send_layers_are_read_in_a_simulcast_order_lowest_first()
    {
        Assert.True(SdpParser.TryParse(SimulcastOffer(), out var offer, out var error), error);

        Assert.True(SdpSimulcast.TryReadSendLayers(SimulcastSection(offer), out var rids));

        Assert.Equal(["q", "h", "f"], rids);
    }

    [Theory]
    [InlineData("a=simulcast:send q;h;f", new[] { "a=rid:q send", "a=rid:h send" }, new[] { "q", "h" })] // f never declared
    [InlineData("a=simulcast:send ~q;h,x;f", new[] { "a=rid:q send", "a=rid:h send", "a=rid:f send" }, new[] { "q", "h", "f" })]
    [InlineData("a=simulcast:recv q;h", new[] { "a=rid:q send", "a=rid:h send" }, new string[0])]
    [InlineData("a=simulcast:send q;h", new[] { "a=rid:q recv", "a=rid:h recv" }, new string[0])]
    [InlineData("a=simulcast:send a!;h;f", new[] { "a=rid:a! send", "a=rid:h send", "a=rid:f send" }, new[] { "h", "f" })]
    [InlineData("a=simulcast:send q", new[] { "a=rid:q send" }, new string[0])] // one layer is no simulcast
    public void Only_declared_valid_send_rids_count(string simulcast, string[] rids, string[] expected)
    {
        var media = new MediaDescription { Kind = "video" };
        foreach (var line in rids.Append(simulcast))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            media.OtherAttributes.Add(new SdpAttribute(line[2..colon], line[(colon + 1)..]));
        }

        var found = SdpSimulcast.TryReadSendLayers(media, out var layers);

        Assert.Equal(expected.Length > 1, found);
        if (found)
        {
            Assert.Equal(expected, layers);
        }
    }

    [Fact]
    public void Answer_receives_every_rid_with_the_rid_header_extension()
    {
        Assert.True(SdpParser.TryParse(SimulcastOffer(), out var offer, out var error), error);
        var parameters = new SdpAnswerParameters("nodeUfrag", "nodePasswordOf24Chars!!x", NodeCertificate.Fingerprint, IPAddress.Parse("203.0.113.7"), 40000)
        {
            AcceptIncomingMedia = true,
            OutgoingStreams = new Dictionary<string, SdpOutgoingStream>(),
        };

        Assert.True(SdpAnswerBuilder.TryBuild(offer, parameters, out var answer, out error), error);
        var text = SdpWriter.Write(answer);
        Assert.True(SdpParser.TryParse(text, out var parsed, out error), error);

        var video = SimulcastSection(parsed);
        Assert.Equal(SdpDirection.RecvOnly, video.Direction);
        Assert.Contains(video.Extensions, e => e.Uri == RtpExtensionUris.Rid && e.Id == 10);
        // The offer has rtx for VP8, so the repaired RID comes too: a layer's RTX stream names its layer with it.
        Assert.Contains(video.Extensions, e => e.Uri == RtpExtensionUris.RepairedRid && e.Id == 11);
        Assert.Contains(video.Codecs, c => c.Name == "rtx" && c.FmtpParameter("apt") == video.Codecs[0].PayloadType.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("\r\na=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n", text, StringComparison.Ordinal);

        // A receive-only section is never answered with simulcast.
        Assert.DoesNotContain(parsed.Media.Skip(2), m => m.OtherAttributes.Any(a => a.Name is "simulcast" or "rid"));
    }

    [Fact]
    public void A_node_that_accepts_no_media_answers_no_simulcast()
    {
        Assert.True(SdpParser.TryParse(SimulcastOffer(), out var offer, out var error), error);
        var parameters = new SdpAnswerParameters("nodeUfrag", "nodePasswordOf24Chars!!x", NodeCertificate.Fingerprint, IPAddress.Parse("203.0.113.7"), 40000)
        {
            AcceptIncomingMedia = false,
            OutgoingStreams = new Dictionary<string, SdpOutgoingStream>(),
        };

        Assert.True(SdpAnswerBuilder.TryBuild(offer, parameters, out var answer, out error), error);

        Assert.DoesNotContain(answer.Media, m => m.OtherAttributes.Any(a => a.Name is "simulcast" or "rid"));
    }
}
