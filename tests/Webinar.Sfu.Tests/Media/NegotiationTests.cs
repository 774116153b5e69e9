using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Webinar.Connector.Client;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// The node's real media plane in process (its UDP socket on loopback, its media loop): offers answered by
/// <see cref="PeerConnection"/>, and C# WebRTC clients where media must really flow.
/// </summary>
public sealed class NegotiationTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static readonly SfuOptions NodeOptions = new()
    {
        UdpPort = 0,
        AnnouncedIp = "127.0.0.1",
        MaxTracksPerPublisher = 2,
        MaxMediaSectionsPerOffer = 8,
        MediaConnectTimeout = TimeSpan.FromSeconds(3),
        MediaSilenceTimeout = TimeSpan.FromSeconds(2),
    };

    private readonly MediaWorker _worker;
    private readonly NodeMediaPlane _plane;

    private readonly Guid _meetingId = Guid.NewGuid();
    private readonly MeetingListener _meeting = new();
    private IMeetingMedia _media = null!;

    public NegotiationTests()
    {
        _worker = MediaWorker.FromOptions(NodeOptions, new MediaLimitsOptions(), TimeProvider.System, NullLoggerFactory.Instance);
        _plane = new NodeMediaPlane(Options.Create(NodeOptions), _worker, NullLoggerFactory.Instance);
    }

    public async Task InitializeAsync()
    {
        await _plane.StartAsync(CancellationToken.None);
        _media = _plane.OpenMeeting(new MeetingMediaPlacement(_meetingId, "node", null, null), _meeting);
    }

    public async Task DisposeAsync()
    {
        await _media.DisposeAsync();
        _worker.Dispose();
    }

    private (IPeerMedia Peer, PeerListener Listener) AddPeer(string user, MediaKinds canPublish)
    {
        var listener = new PeerListener();
        var peer = _media.AddPeer(new MediaPeer(Guid.NewGuid(), _meetingId, Guid.NewGuid(), user, canPublish), listener);
        return (peer, listener);
    }

    private static SessionDescription Parse(string sdp)
    {
        Assert.True(SdpParser.TryParse(sdp, out var parsed, out var error), error);
        return parsed;
    }

    [Fact]
    public async Task A_viewer_that_offers_before_anything_is_published_keeps_its_m_line_directions_when_streams_arrive()
    {
        var (viewer, viewerEvents) = AddPeer("viewer", MediaKinds.None);
        var offer = WebRtcBinOffer.Receive("vufrag");

        var first = await viewer.AnswerAsync(offer, CancellationToken.None);
        Assert.Null(first.Message);
        var empty = Parse(first.Sdp!);
        Assert.All(empty.Media, m => Assert.Equal(SdpDirection.SendOnly, m.Direction));
        Assert.All(empty.Media, m => Assert.Empty(m.Ssrcs));
        Assert.Equal(["audio0", "video1"], empty.FindGroup("BUNDLE")!.Mids);

        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(WebRtcBinOffer.Publish("pufrag", videoMid: "video0", audioMid: "audio1"), CancellationToken.None);
        Assert.Null(published.Message);
        await viewerEvents.WaitForRenegotiationAsync(audio: 1, video: 1);

        var second = await viewer.AnswerAsync(offer, CancellationToken.None);
        var filled = Parse(second.Sdp!);
        Assert.All(filled.Media, m => Assert.Equal(SdpDirection.SendOnly, m.Direction));
        Assert.All(filled.Media, m => Assert.Single(m.Ssrcs));
        Assert.Equal(2, second.Slots.Count);
    }

    [Fact]
    public async Task A_publishers_mid_never_appears_in_a_viewers_answer_or_slots()
    {
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(WebRtcBinOffer.Publish("pufrag", videoMid: "Xss-v~1", audioMid: "Xss-a~2"), CancellationToken.None);
        Assert.Null(published.Message);

        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(WebRtcBinOffer.Receive("vufrag"), CancellationToken.None);

        Assert.Equal(2, answer.Slots.Count);
        Assert.DoesNotContain("Xss", answer.Sdp!, StringComparison.Ordinal);
        Assert.All(answer.Slots, s => Assert.DoesNotContain("Xss", s.Stream.StreamId, StringComparison.Ordinal));
        Assert.All(Parse(answer.Sdp!).Media, m => Assert.DoesNotContain("Xss", string.Join(' ', m.Msids), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("v<script>")]
    [InlineData("seventeen-chars-x")]
    [InlineData("a:b")]
    public async Task An_offer_whose_mid_is_not_a_short_token_is_refused(string mid)
    {
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);

        var answer = await presenter.AnswerAsync(WebRtcBinOffer.Publish("pufrag", videoMid: mid, audioMid: "a"), CancellationToken.None);

        Assert.Equal(MediaRefusal.BadOffer, answer.Refusal);
        Assert.Contains("a=mid", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_offer_sending_more_tracks_than_a_publisher_may_have_is_refused()
    {
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);

        var answer = await presenter.AnswerAsync(WebRtcBinOffer.Build("pufrag",
            ("video", "v0", "sendonly"), ("audio", "a1", "sendonly"), ("video", "v2", "sendonly")), CancellationToken.None);

        Assert.Equal(MediaRefusal.BadOffer, answer.Refusal);
        Assert.Contains("at most 2", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_offer_with_more_m_lines_than_allowed_is_refused_and_one_within_the_limit_is_answered()
    {
        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var nine = Enumerable.Range(0, 9).Select(i => ("video", "v" + i, "recvonly")).ToArray();

        var refused = await viewer.AnswerAsync(WebRtcBinOffer.Build("vufrag", nine), CancellationToken.None);
        var answered = await viewer.AnswerAsync(WebRtcBinOffer.Build("vufrag", nine[..8]), CancellationToken.None);

        Assert.Equal(MediaRefusal.BadOffer, refused.Refusal);
        Assert.Contains("at most 8", refused.Message, StringComparison.Ordinal);
        Assert.Equal(MediaRefusal.None, answered.Refusal);
        Assert.Equal(8, Parse(answered.Sdp!).Media.Count);
    }

    [Fact]
    public async Task A_transport_whose_ice_never_connects_is_closed_after_the_connect_timeout()
    {
        var (viewer, events) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(WebRtcBinOffer.Receive("vufrag"), CancellationToken.None);
        Assert.Equal(MediaRefusal.None, answer.Refusal);

        Assert.Equal(MediaCloseReasons.ConnectTimeout, await events.Closed.Task.WaitAsync(Patience));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rtp_on_an_ssrc_the_offer_never_named_is_bound_by_mid_or_payload_type_and_reaches_viewers(bool withMidExtension)
    {
        using var publisher = new WebRtcClient();
        var audio = publisher.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var offer = string.Join("\r\n", publisher.CreateOffer().Split("\r\n")
            .Where(l => !l.StartsWith("a=ssrc", StringComparison.Ordinal))
            .Where(l => withMidExtension || !l.Contains(RtpExtensionUris.Mid, StringComparison.Ordinal)));
        var published = await presenter.AnswerAsync(offer, CancellationToken.None);
        Assert.True(publisher.TryApplyAnswer(published.Sdp!, out var error), error);
        await publisher.ConnectedAsync(Patience);

        using var receiver = new WebRtcClient();
        receiver.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(receiver.CreateOffer(), CancellationToken.None);
        Assert.True(receiver.TryApplyAnswer(answer.Sdp!, out error), error);
        await receiver.ConnectedAsync(Patience);

        var deadline = DateTime.UtcNow + Patience;
        while (receiver.Received.Sum(r => r.Packets) < 20)
        {
            Assert.True(DateTime.UtcNow < deadline, "the viewer got none of the publisher's unsignalled audio");
            publisher.SendAudio(audio);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_nack_from_a_viewer_that_negotiated_rtx_is_answered_on_its_rtx_stream_with_the_original_sequence_number()
    {
        using var publisher = new WebRtcClient();
        var camera = publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(publisher.CreateOffer(), CancellationToken.None);
        Assert.True(publisher.TryApplyAnswer(published.Sdp!, out var error), error);
        await publisher.ConnectedAsync(Patience);

        using var receiver = new WebRtcClient(new WebRtcClientOptions { OfferRtx = true });
        receiver.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(receiver.CreateOffer(), CancellationToken.None);
        var video = Parse(answer.Sdp!).Media.Single(m => m.Kind == "video");
        var fid = Assert.Single(video.SsrcGroups);
        Assert.Equal("FID", fid.Semantics);
        var (mediaSsrc, rtxSsrc) = (fid.Ssrcs[0], fid.Ssrcs[1]);
        Assert.True(SdpRtx.TryGetPayloadType(video, 96, out var rtxPayloadType));
        Assert.Equal(97, rtxPayloadType);

        var media = new ConcurrentDictionary<ushort, (uint Timestamp, byte[] Payload)>();
        var retransmissions = new ConcurrentQueue<(uint Ssrc, byte PayloadType, uint Timestamp, byte[] Payload)>();
        receiver.RtpReceived = (_, bytes) =>
        {
            var (ssrc, seq, timestamp, payloadType, payload) = MediaFixtures.Read(bytes.ToArray());
            if (ssrc == mediaSsrc)
            {
                media[seq] = (timestamp, payload);
            }
            else
            {
                retransmissions.Enqueue((ssrc, payloadType, timestamp, payload));
            }
        };
        Assert.True(receiver.TryApplyAnswer(answer.Sdp!, out error), error);
        await receiver.ConnectedAsync(Patience);

        var deadline = DateTime.UtcNow + Patience;
        while (media.Count < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, "the viewer got no video");
            publisher.SendVideoFrame(camera, 1200);
            await Task.Delay(30);
        }

        var (lostSeq, original) = media.OrderBy(p => p.Key).Skip(3).First();
        receiver.RequestRetransmission(mediaSsrc, lostSeq);
        while (retransmissions.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "the NACK got no retransmission");
            await Task.Delay(20);
        }

        var (rtxSsrcSeen, payloadType, rtxTimestamp, rtxPayload) = Assert.Single(retransmissions);
        Assert.Equal((rtxSsrc, (byte)97, original.Timestamp), (rtxSsrcSeen, payloadType, rtxTimestamp));
        Assert.Equal([(byte)(lostSeq >> 8), (byte)lostSeq, .. original.Payload], rtxPayload);
        Assert.Equal(1, _worker.Counters.NacksAnswered);
    }

    [Fact]
    public async Task A_publisher_resending_on_its_rtx_stream_fills_the_hole_the_viewer_would_see()
    {
        using var publisher = new WebRtcClient(new WebRtcClientOptions { OfferRtx = true });
        var camera = publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(publisher.CreateOffer(), CancellationToken.None);
        Assert.True(publisher.TryApplyAnswer(published.Sdp!, out var error), error);
        Assert.Equal(97, camera.RtxPayloadType);
        await publisher.ConnectedAsync(Patience);

        using var receiver = new WebRtcClient();
        receiver.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(receiver.CreateOffer(), CancellationToken.None);
        var received = new ConcurrentDictionary<ushort, byte>();
        var payloadTypes = new ConcurrentDictionary<byte, byte>();
        receiver.RtpReceived = (_, bytes) =>
        {
            var (_, seq, _, payloadType, _) = MediaFixtures.Read(bytes.ToArray());
            received[seq] = 0;
            payloadTypes[payloadType] = 0;
        };
        Assert.True(receiver.TryApplyAnswer(answer.Sdp!, out error), error);
        await receiver.ConnectedAsync(Patience);

        var deadline = DateTime.UtcNow + Patience;
        while (received.Count < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, "the viewer got no video");
            publisher.SendVideoFrame(camera, 1200);
            await Task.Delay(30);
        }

        // Two packets never leave the publisher: the node NACKs them and they come back on the RTX stream.
        camera.DropOutgoing = 2;
        while (_worker.Counters.RtxRepaired < 2 || !Contiguous(received.Keys))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the hole was not repaired: {_worker.Counters.RtxRepaired} repaired, {_worker.Counters.RtxMalformed} malformed, {camera.PacketsRetransmitted} resent");
            publisher.SendVideoFrame(camera, 1200);
            await Task.Delay(30);
        }

        Assert.True(camera.PacketsRetransmitted >= 2);
        Assert.Equal(0, _worker.Counters.RtxMalformed);
        Assert.Equal([(byte)96], payloadTypes.Keys); // the viewer negotiated no rtx: nothing reached it as RTX
    }

    [Fact]
    public async Task Rtx_too_short_for_its_osn_or_of_an_unknown_payload_type_is_dropped_and_counted_and_padding_or_a_resend_nobody_missed_goes_nowhere()
    {
        using var publisher = new WebRtcClient(new WebRtcClientOptions { OfferRtx = true });
        var camera = publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
        var (presenter, _) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(publisher.CreateOffer(), CancellationToken.None);
        Assert.True(publisher.TryApplyAnswer(published.Sdp!, out var error), error);
        await publisher.ConnectedAsync(Patience);

        using var receiver = new WebRtcClient();
        receiver.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        var (viewer, _) = AddPeer("viewer", MediaKinds.None);
        var answer = await viewer.AnswerAsync(receiver.CreateOffer(), CancellationToken.None);
        long received = 0;
        receiver.RtpReceived = (_, _) => Interlocked.Increment(ref received);
        Assert.True(receiver.TryApplyAnswer(answer.Sdp!, out error), error);
        await receiver.ConnectedAsync(Patience);
        var deadline = DateTime.UtcNow + Patience;
        while (Interlocked.Read(ref received) < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, "the viewer got no video");
            publisher.SendVideoFrame(camera, 1200);
            await Task.Delay(30);
        }

        var counters = _worker.Counters;
        var malformedBefore = counters.Malformed;
        Assert.True(publisher.TryGetSentPacket(camera, (ushort)(camera.SequenceNumber - 1), out var last));
        var resend = new byte[1500];
        Assert.True(RtxPacket.TryWrap(last, resend, 97, 1, camera.RtxSsrc, out var resendLength));
        byte[] oneByte = [0x80, 97, 0, 2, .. resend.AsSpan(4, 8), 0x42]; // no extensions: a 1-byte payload, no room for the OSN
        var unknownApt = resend[..resendLength];
        unknownApt[1] = 98;
        unknownApt[3] = 3;
        byte[] padding = [0xA0, 97, 0, 4, .. resend.AsSpan(4, 8), 0, 0, 0, 4];
        byte[] probe = [0xA0, 97, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]; // libwebrtc's bandwidth probe on SSRC 0
        var viewerBefore = Interlocked.Read(ref received);
        var unknownBefore = counters.UnknownSsrc;

        Assert.True(publisher.SendPlainRtp(oneByte));
        Assert.True(publisher.SendPlainRtp(unknownApt));
        Assert.True(publisher.SendPlainRtp(padding));
        Assert.True(publisher.SendPlainRtp(probe));
        resend[3] = 5;
        Assert.True(publisher.SendPlainRtp(resend.AsSpan(0, resendLength))); // the last packet again: the node has it
        while (counters.RtxMalformed < 2 || counters.RtxDuplicates < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{counters.RtxMalformed} malformed, {counters.RtxDuplicates} duplicates");
            await Task.Delay(20);
        }

        await Task.Delay(300);
        Assert.Equal(2, counters.RtxMalformed);
        Assert.Equal(2, counters.Malformed - malformedBefore);
        Assert.Equal(1, counters.RtxDuplicates);
        Assert.Equal(0, counters.RtxRepaired);
        Assert.Equal(unknownBefore, counters.UnknownSsrc); // the padding and the probe were taken, not refused
        Assert.Equal(viewerBefore, Interlocked.Read(ref received)); // nothing of it reached the viewer
    }

    /// <summary>Every sequence number between the lowest and the highest was received (no wrap in these short runs).</summary>
    private static bool Contiguous(ICollection<ushort> seqs)
    {
        var sorted = seqs.Select(s => (int)s).Order().ToArray();
        return sorted.Length > 0 && sorted[^1] - sorted[0] + 1 == sorted.Length;
    }

    [Fact]
    public async Task A_connected_transport_lives_on_its_media_alone_and_closes_when_the_peer_goes_silent()
    {
        // The silence timeout (2 s) is shorter than the client's consent checks (every 4-6 s): only its RTP keeps
        // the transport up.
        using var publisher = new WebRtcClient();
        var audio = publisher.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var (presenter, events) = AddPeer("presenter", MediaKinds.Audio | MediaKinds.Video);
        var published = await presenter.AnswerAsync(publisher.CreateOffer(), CancellationToken.None);
        var (answerSdp, nodePort) = OnlyLoopbackCandidate(published.Sdp!);
        using var path = new UdpPath(nodePort);
        Assert.True(publisher.TryApplyAnswer(answerSdp.Replace($" {nodePort} typ host", $" {path.Port} typ host", StringComparison.Ordinal), out var error), error);
        await publisher.ConnectedAsync(Patience);

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        while (DateTime.UtcNow < until)
        {
            Assert.False(events.Closed.Task.IsCompleted, "the transport closed while its media flowed");
            publisher.SendAudio(audio);
            await Task.Delay(20);
        }

        // The path breaks without a word (no DTLS close_notify): the node closes on the silence.
        path.Cut();
        Assert.Equal("consent-expired", await events.Closed.Task.WaitAsync(Patience));
    }

    /// <summary>The answer with only its 127.0.0.1 UDP candidate, and that candidate's port.</summary>
    private static (string Sdp, int Port) OnlyLoopbackCandidate(string answer)
    {
        var lines = answer.Split("\r\n");
        var loopback = lines.First(l => l.StartsWith("a=candidate:", StringComparison.Ordinal) && l.Contains(" udp ", StringComparison.OrdinalIgnoreCase)
            && l.Contains(" 127.0.0.1 ", StringComparison.Ordinal));
        var port = int.Parse(loopback.Split(' ')[5], CultureInfo.InvariantCulture);
        var kept = lines.Where(l => !l.StartsWith("a=candidate:", StringComparison.Ordinal) || l == loopback);
        return (string.Join("\r\n", kept), port);
    }

    /// <summary>A UDP path between one client and the node that can be cut, as a network that stops carrying packets.</summary>
    private sealed class UdpPath : IDisposable
    {
        private readonly System.Net.Sockets.UdpClient _clientSide = new(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        private readonly System.Net.Sockets.UdpClient _nodeSide = new(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();
        private volatile bool _cut;
        private System.Net.IPEndPoint? _client;

        public UdpPath(int nodePort)
        {
            var node = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, nodePort);
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var received = await _clientSide.ReceiveAsync(_stop.Token);
                    _client = received.RemoteEndPoint;
                    if (!_cut)
                    {
                        await _nodeSide.SendAsync(received.Buffer, node, _stop.Token);
                    }
                }
            });
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var received = await _nodeSide.ReceiveAsync(_stop.Token);
                    if (!_cut && _client is { } client)
                    {
                        await _clientSide.SendAsync(received.Buffer, client, _stop.Token);
                    }
                }
            });
        }

        public int Port => ((System.Net.IPEndPoint)_clientSide.Client.LocalEndPoint!).Port;

        public void Cut() => _cut = true;

        public void Dispose()
        {
            _stop.Cancel();
            _clientSide.Dispose();
            _nodeSide.Dispose();
        }
    }

    private sealed class MeetingListener : IMeetingMediaListener
    {
        public void OnStreamPublished(MediaStreamInfo stream)
        {
        }

        public void OnStreamUnpublished(MediaStreamInfo stream)
        {
        }
    }

    private sealed class PeerListener : IPeerMediaListener
    {
        private readonly ConcurrentQueue<(int Audio, int Video)> _renegotiations = new();

        public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnRenegotiationNeeded(int audio, int video) => _renegotiations.Enqueue((audio, video));

        public void OnTransportClosed(string reason) => Closed.TrySetResult(reason);

        public async Task WaitForRenegotiationAsync(int audio, int video)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!_renegotiations.Contains((audio, video)))
            {
                Assert.True(DateTime.UtcNow < deadline, $"no renegotiation for {audio} audio and {video} video");
                await Task.Delay(20);
            }
        }
    }
}

/// <summary>Offers shaped as GStreamer webrtcbin 1.22 writes them with max-bundle: later m-lines port 0 + bundle-only, no a=ssrc.</summary>
internal static class WebRtcBinOffer
{
    private const string Fingerprint = "sha-256 9A:A9:51:FD:22:E5:F7:83:F0:5F:8F:C2:EA:68:54:16:17:DC:A3:7A:6F:3C:7B:47:B8:EF:F0:B9:DC:BA:AC:84";

    public static string Publish(string ufrag, string videoMid, string audioMid) =>
        Build(ufrag, ("video", videoMid, "sendrecv"), ("audio", audioMid, "sendrecv"));

    public static string Receive(string ufrag) => Build(ufrag, ("audio", "audio0", "recvonly"), ("video", "video1", "recvonly"));

    public static string Build(string ufrag, params (string Kind, string Mid, string Direction)[] media)
    {
        var text = new System.Text.StringBuilder();
        text.Append("v=0\r\no=- 6927366547039480925 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-options:trickle\r\n");
        text.Append("a=group:BUNDLE ").Append(string.Join(' ', media.Select(m => m.Mid))).Append("\r\n");
        for (var i = 0; i < media.Length; i++)
        {
            var (kind, mid, direction) = media[i];
            var pt = kind == "audio" ? "111" : "96";
            text.Append($"m={kind} {(i == 0 ? 9 : 0)} UDP/TLS/RTP/SAVPF {pt}\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\n");
            text.Append($"a=ice-ufrag:{ufrag}\r\na=ice-pwd:fgcWIlbi1gcSd8JFAvl1IrCS01e4WsQ/\r\n");
            if (i > 0)
            {
                text.Append("a=bundle-only\r\n");
            }

            text.Append($"a=rtcp-mux\r\na=rtcp-rsize\r\na={direction}\r\n");
            text.Append(kind == "audio"
                ? "a=rtpmap:111 OPUS/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
                : "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 transport-cc\r\n");
            text.Append($"a=mid:{mid}\r\na=fingerprint:{Fingerprint}\r\na=rtcp-mux-only\r\n");
        }

        return text.ToString();
    }
}
