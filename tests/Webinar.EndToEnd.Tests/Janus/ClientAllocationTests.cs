using Webinar.TestSupport.Janus;
using Webinar.Connector.Client;

namespace Webinar.EndToEnd.Tests.Janus;

/// <summary>The packet paths of the client allocate nothing: measured on a live echotest connection with Janus.</summary>
[Collection(JanusCollection.Name)]
public sealed class ClientAllocationTests
{
    [Fact]
    public async Task Sending_and_receiving_media_allocates_nothing_per_packet()
    {
        await using var janus = await JanusServer.StartAsync();
        await using var session = await janus.CreateSessionAsync();
        using var client = new WebRtcClient(new WebRtcClientOptions { LocalAddress = janus.IceAddress });
        var audio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendRecv);
        var video = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendRecv);
        var probe = new ReceiveAllocationProbe(from: 3000, to: 3500);
        client.RtpReceived = probe.OnRtp;
        await JanusPeers.StartEchoTestAsync(session, client);
        await JanusEchoTestTests.ConnectAsync(janus, client);

        // Warm up until every slot of both NACK caches holds a rented buffer (512 audio, 2048 video), then measure.
        for (int i = 0; i < 800; i++)
        {
            client.SendAudio(audio);
            client.SendVideoFrame(video, 3000);
            if (i % 10 == 0)
            {
                Thread.Sleep(2);
            }
        }

        // Two measured rounds: the first may still see one-off runtime allocations (tiered JIT), the second must be 0.
        long sendAllocated = 0;
        int sent = 0;
        for (int round = 0; round < 2; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 300; i++)
            {
                sent += client.SendAudio(audio) ? 1 : 0;
                sent += client.SendVideoFrame(video, 3000);
                Thread.Sleep(3);
            }

            sendAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        await JanusEchoTestTests.WaitUntil(() => probe.Done, TimeSpan.FromSeconds(5));

        Assert.True(sent > 2000, $"sent {sent}");
        Assert.Equal(0, sendAllocated);
        Assert.True(probe.Done, $"only {probe.Count} packets came back");
        Assert.Equal(0, probe.Allocated); // 500 packets decrypted, counted and handed over on the receive thread
    }

    /// <summary>Reads the receive thread's allocation counter at two packet counts, from inside the callback.</summary>
    private sealed class ReceiveAllocationProbe(int from, int to)
    {
        private long _start;
        private long _allocated = -1;

        public int Count { get; private set; }

        public bool Done => Volatile.Read(ref _allocated) >= 0;

        public long Allocated => Volatile.Read(ref _allocated);

        public void OnRtp(ReceivedStats source, ReadOnlySpan<byte> packet)
        {
            Count++;
            if (Count == from)
            {
                _start = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (Count == to)
            {
                Volatile.Write(ref _allocated, GC.GetAllocatedBytesForCurrentThread() - _start);
            }
        }
    }
}
