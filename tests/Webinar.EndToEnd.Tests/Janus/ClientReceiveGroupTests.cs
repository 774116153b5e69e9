using Webinar.TestSupport.Janus;
using Webinar.Connector.Client;

namespace Webinar.EndToEnd.Tests.Janus;

/// <summary>
/// Load-generator clients served by one shared receive thread (epoll on Linux x64): two clients connect to Janus's
/// echotest through the same <see cref="ClientReceiveGroup"/> thread, and each receives its own media back, counted by
/// header (<see cref="WebRtcClientOptions.HeaderOnlyReceive"/>).
/// </summary>
[Collection(JanusCollection.Name)]
public sealed class ClientReceiveGroupTests
{
    [Fact]
    public async Task Two_clients_on_one_shared_receive_thread_each_get_their_echo()
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        using var group = new ClientReceiveGroup(1);
        var options = new WebRtcClientOptions { LocalAddress = janus.IceAddress, ReceiveGroup = group, HeaderOnlyReceive = true };
        using var first = new WebRtcClient(options);
        using var second = new WebRtcClient(options);
        var tracks = new List<(WebRtcClient Client, ClientTrack Audio, ClientTrack Video)>();
        foreach (var client in new[] { first, second })
        {
            var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
            var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendRecv);
            tracks.Add((client, audio, video));
            await JanusPeers.StartEchoTestAsync(session, client);
        }

        foreach (var (client, _, _) in tracks)
        {
            await JanusEchoTestTests.ConnectAsync(janus, client);
        }

        for (var i = 0; i < 200; i++)
        {
            foreach (var (client, audio, video) in tracks)
            {
                client.SendAudio(audio);
                client.SendVideoFrame(video, 2000);
            }

            Thread.Sleep(5);
        }

        static long Received(WebRtcClient client) => client.Received.Sum(r => r.Packets);
        await JanusEchoTestTests.WaitUntil(() => Received(first) >= 300 && Received(second) >= 300, TimeSpan.FromSeconds(10));

        Assert.True(Received(first) >= 300, $"first client received {Received(first)}");
        Assert.True(Received(second) >= 300, $"second client received {Received(second)}");
        Assert.All(tracks, t => Assert.Equal(2, t.Client.Received.Count)); // its audio and its video SSRC, nobody else's
        Assert.Equal(0, first.UndecryptablePackets + second.UndecryptablePackets);
    }
}
