using Webinar.TestSupport.Janus;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;

namespace Webinar.EndToEnd.Tests.Janus;

/// <summary>
/// A Janus videoroom: one C# publisher (we offer, Janus answers; we are the DTLS server) and two C# subscribers (Janus
/// offers, we answer a=setup:active; we are the DTLS client). Janus forwards with its own SSRCs and sequence numbers;
/// the payloads must arrive byte for byte as the publisher sent them.
/// </summary>
[Collection(JanusCollection.Name)]
public sealed class JanusVideoRoomTests
{
    [Fact]
    public async Task Two_subscribers_receive_the_publishers_audio_and_video_through_Janus_videoroom()
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        var options = new WebRtcClientOptions { LocalAddress = janus.IceAddress, KeyframeInterval = 30 };
        using var publisher = new WebRtcClient(options);
        var audio = publisher.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var video = publisher.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);

        long room = await JanusPeers.CreateRoomAsync(session);
        var (_, feed) = await JanusPeers.PublishAsync(session, room, publisher);
        await JanusEchoTestTests.ConnectAsync(janus, publisher);
        Assert.Equal(DtlsRole.Server, publisher.DtlsRole);

        using var pump = new MediaPump(publisher, audio, video, videoBitrate: 1_500_000);
        pump.Start();

        using var first = new WebRtcClient(options);
        using var second = new WebRtcClient(options);
        var firstLog = new ReceivedPacketLog();
        var secondLog = new ReceivedPacketLog();
        firstLog.Attach(first);
        secondLog.Attach(second);
        await JanusPeers.SubscribeAsync(session, room, feed, first);
        await JanusPeers.SubscribeAsync(session, room, feed, second);
        await JanusEchoTestTests.ConnectAsync(janus, first);
        await JanusEchoTestTests.ConnectAsync(janus, second);
        Assert.Equal(DtlsRole.Client, first.DtlsRole);
        Assert.Equal(DtlsRole.Client, second.DtlsRole);

        // 3 s of media after both are connected; half way, the first subscriber asks for a key frame (PLI), which
        // Janus relays to the publisher, whose next frame is a key frame.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        long requestsBefore = video.KeyframeRequestsReceived;
        long keyframesBefore = first.Received.Single(s => s.Track?.Kind == ClientMediaKind.Video).Keyframes;
        first.RequestKeyframe(first.Received.Single(s => s.Track?.Kind == ClientMediaKind.Video).Ssrc);
        await JanusEchoTestTests.WaitUntil(() => video.KeyframeRequestsReceived > requestsBefore, TimeSpan.FromSeconds(3));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        pump.Stop();
        Assert.True(video.KeyframeRequestsReceived > requestsBefore, "the subscriber's PLI reached the publisher through Janus");
        Assert.True(first.Received.Single(s => s.Track?.Kind == ClientMediaKind.Video).Keyframes > keyframesBefore);
        await Task.Delay(300);

        foreach (var (subscriber, log) in new[] { (first, firstLog), (second, secondLog) })
        {
            Assert.Equal(2, subscriber.Tracks.Count);
            var packets = log.Snapshot();
            var audioIn = packets.Where(p => p.Kind == ClientMediaKind.Audio).ToList();
            var videoIn = packets.Where(p => p.Kind == ClientMediaKind.Video).ToList();
            // 3 s at 50 packets/s audio and ~180 packets/s video; allow for the start-up (PLI → key frame) and timing.
            Assert.True(audioIn.Count >= 120, $"audio packets received: {audioIn.Count}");
            Assert.True(videoIn.Count >= 400, $"video packets received: {videoIn.Count}");
            AssertForwardedIntact(publisher, audio, audioIn, video: false);
            AssertForwardedIntact(publisher, video, videoIn, video: true);

            var videoStats = subscriber.Received.Single(s => s.Track?.Kind == ClientMediaKind.Video);
            Assert.True(videoStats.Keyframes >= 1, "the subscriber saw a VP8 key frame");
            Assert.Equal(0, videoStats.Lost);
            Assert.Equal(0, subscriber.UndecryptablePackets);
            Assert.True(subscriber.RtcpPacketsReceived > 0, "Janus sends sender reports to subscribers");
        }

        Assert.True(video.KeyframeRequestsReceived >= 1, "Janus asks the publisher for a key frame (PLI/FIR) when a subscriber joins");
    }

    /// <summary>Each forwarded payload equals the one the publisher sent under the sequence number in its tag.</summary>
    private static void AssertForwardedIntact(WebRtcClient publisher, ClientTrack track, List<ReceivedPacket> received, bool video)
    {
        var originals = new HashSet<ushort>();
        foreach (var packet in received)
        {
            Assert.True(SyntheticMedia.TryReadTag(packet.Payload, video, out ushort original, out uint ssrc));
            Assert.Equal(track.Ssrc, ssrc);
            Assert.True(originals.Add(original), $"packet {original} arrived twice");
            Assert.True(publisher.TryGetSentPacket(track, original, out var sentBytes), $"packet {original} is no longer cached");
            Assert.True(RtpPacket.TryParse(sentBytes.ToArray(), out var sent));
            Assert.Equal(sent.Payload.ToArray(), packet.Payload);
            Assert.Equal(sent.Marker, packet.Marker);
        }

        // Consecutive arrivals keep the publisher's order and spacing: Janus renumbers by a constant offset.
        for (int i = 1; i < received.Count; i++)
        {
            SyntheticMedia.TryReadTag(received[i - 1].Payload, video, out ushort before, out _);
            SyntheticMedia.TryReadTag(received[i].Payload, video, out ushort after, out _);
            Assert.Equal((ushort)(after - before), (ushort)(received[i].SequenceNumber - received[i - 1].SequenceNumber));
        }
    }
}
