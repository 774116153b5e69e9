using Webinar.TestSupport.Janus;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;

namespace Webinar.EndToEnd.Tests.Janus;

/// <summary>
/// Our whole stack (SDP, controlling ICE, DTLS, SRTP, RTP/RTCP) against a real, independent WebRTC server: Debian's
/// Janus 1.1.2 (libnice, OpenSSL, libsrtp). The echotest plugin sends every packet back on the same m-line.
/// </summary>
[Collection(JanusCollection.Name)]
public sealed class JanusEchoTestTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Audio_and_video_sent_to_Janus_echotest_come_back_intact()
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        using var client = new WebRtcClient(new WebRtcClientOptions { LocalAddress = janus.IceAddress });
        var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendRecv);
        var log = new ReceivedPacketLog();
        log.Attach(client);

        await JanusPeers.StartEchoTestAsync(session, client);
        await ConnectAsync(janus, client);

        // Janus answers a=setup:active, so we are the DTLS server here; the videoroom test covers the client role.
        Assert.Equal(DtlsRole.Server, client.DtlsRole);
        Assert.Equal(WebRtcClientState.Connected, client.State);
        Assert.Equal(Webinar.Media.Srtp.SrtpProfile.AeadAes128Gcm, client.SrtpProfile);

        // 2 s of media: 100 Opus packets, 60 VP8 frames (every frame a few packets, the first a key frame).
        var sentAudio = new List<ushort>();
        var sentVideo = new List<ushort>();
        for (int tick = 0; tick < 100; tick++)
        {
            sentAudio.Add(audio.SequenceNumber);
            Assert.True(client.SendAudio(audio));
            if (tick % 5 < 3)
            {
                ushort first = video.SequenceNumber;
                int packets = client.SendVideoFrame(video, 2000);
                for (int i = 0; i < packets; i++)
                {
                    sentVideo.Add((ushort)(first + i));
                }
            }

            await Task.Delay(20);
        }

        await WaitUntil(() => log.Snapshot().Count >= (sentAudio.Count + sentVideo.Count) * 95 / 100, TimeSpan.FromSeconds(5));
        var received = log.Snapshot();

        AssertEchoed(client, audio, sentAudio, received, ClientMediaKind.Audio);
        AssertEchoed(client, video, sentVideo, received, ClientMediaKind.Video);
        Assert.Equal(0, client.UndecryptablePackets);
        Assert.True(client.RtcpPacketsReceived > 0, "Janus sends RTCP (receiver reports, TWCC feedback) that our SRTCP must authenticate.");
        var videoStats = client.Received.Single(s => s.Track == video);
        Assert.True(videoStats.Keyframes >= 1, "the echoed first frame is a VP8 key frame");
    }

    [Fact]
    public async Task A_video_packet_lost_on_the_way_is_nacked_by_Janus_and_retransmitted_from_the_cache()
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        using var client = new WebRtcClient(new WebRtcClientOptions { LocalAddress = janus.IceAddress });
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendRecv);
        var log = new ReceivedPacketLog();
        log.Attach(client);
        await JanusPeers.StartEchoTestAsync(session, client);
        await ConnectAsync(janus, client);

        var lost = new List<ushort>();
        for (int frame = 0; frame < 45; frame++)
        {
            if (frame is 10 or 25)
            {
                // The second packet of this frame is cached but never reaches Janus.
                lost.Add((ushort)(video.SequenceNumber + 1));
                client.SendVideoFrame(video, 300); // one packet, sent
                video.DropOutgoing = 1;
            }

            client.SendVideoFrame(video, 2000);
            await Task.Delay(33);
        }

        await WaitUntil(() => lost.All(seq => Echoed(log, seq)), TimeSpan.FromSeconds(5));

        Assert.True(video.PacketsRetransmitted >= lost.Count, $"retransmitted {video.PacketsRetransmitted}");
        Assert.All(lost, seq => Assert.True(Echoed(log, seq), $"packet {seq} was never NACKed, resent and echoed"));
        var stats = client.Received.Single(s => s.Track == video);
        Assert.Equal(0, stats.Lost);

        static bool Echoed(ReceivedPacketLog log, ushort original) => log.Snapshot().Any(p =>
            p.Kind == ClientMediaKind.Video && SyntheticMedia.TryReadTag(p.Payload, true, out ushort seq, out _) && seq == original);
    }

    /// <summary>
    /// Every echoed packet carries a payload byte-identical to one we sent (found by the tag inside it); Janus may
    /// renumber, but only by a constant offset, so the sequence numbers still line up one to one; the marker bits match.
    /// </summary>
    private static void AssertEchoed(WebRtcClient client, ClientTrack track, List<ushort> sent, IReadOnlyList<ReceivedPacket> received, ClientMediaKind kind)
    {
        var echoed = received.Where(p => p.PayloadType == track.PayloadType).ToList();
        Assert.True(echoed.Count >= sent.Count * 95 / 100, $"{kind}: {echoed.Count} of {sent.Count} packets came back");
        int? offset = null;
        var seen = new HashSet<ushort>();
        foreach (var packet in echoed)
        {
            Assert.True(SyntheticMedia.TryReadTag(packet.Payload, kind == ClientMediaKind.Video, out ushort original, out uint ssrc), $"{kind}: an echoed payload lost its tag");
            Assert.Equal(track.Ssrc, ssrc);
            Assert.Contains(original, sent);
            Assert.True(client.TryGetSentPacket(track, original, out var sentBytes), $"{kind}: packet {original} is no longer cached");
            Assert.True(RtpPacket.TryParse(sentBytes.ToArray(), out var sentPacket));
            Assert.Equal(sentPacket.Payload.ToArray(), packet.Payload);
            Assert.Equal(sentPacket.Marker, packet.Marker);
            int delta = (ushort)(packet.SequenceNumber - original);
            offset ??= delta;
            Assert.Equal(offset, delta);
            seen.Add(original);
        }

        Assert.Equal(echoed.Count, seen.Count); // no duplicates
    }

    /// <summary>Waits for SRTP; on failure the message says how far ICE got and what Janus logged.</summary>
    internal static async Task ConnectAsync(JanusServer janus, WebRtcClient client)
    {
        try
        {
            await client.ConnectedAsync(ConnectTimeout);
        }
        catch (Exception exception) when (exception is TimeoutException or DtlsHandshakeException)
        {
            throw new Xunit.Sdk.XunitException(
                $"Client {client.LocalEndPoint} → {client.RemoteEndPoint} did not connect ({exception.Message}); state {client.State}, " +
                $"ICE consent {client.HasConsent} (STUN in {client.StunPacketsReceived}, error {client.IceErrorCode}), DTLS {client.DtlsRole}.\nJanus log:\n{janus.LogTail(120)}");
        }
    }

    internal static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }
}

/// <summary>Janus tests run one at a time: each starts its own Janus, and they share two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class JanusCollection
{
    public const string Name = "Janus";
}
