using System.Net.WebSockets;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

/// <summary>What the node queues toward one client: bounded in frames and bytes, renegotiation requests coalesced.</summary>
[Collection(SfuNodeCollection.Name)]
public sealed class OutboundQueueTests(SfuNodeFixture node)
{
    [Fact]
    public async Task A_burst_of_renegotiation_requests_costs_a_few_frames_carrying_the_latest_counts()
    {
        var meeting = await node.CreateMeetingAsync();
        var (viewer, _) = await node.JoinAsync(meeting, Guid.NewGuid(), "viewer");
        await using var _v = viewer;
        var listener = (await node.Media.Meeting(meeting).PeerAsync("viewer")).Listener;

        // 3,000 toggles: more than the 1,024 frames a connection may have queued.
        for (var i = 1; i <= 3000; i++)
        {
            listener.OnRenegotiationNeeded(i % 2, i);
        }

        var renegotiations = 0;
        while (true)
        {
            var frame = await viewer.ReceiveAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(frame); // closed (as slow-client) before the last counts arrived
            Assert.Equal("renegotiate", frame.Value.GetProperty("type").GetString());
            renegotiations++;
            if (frame.Value.GetProperty("video").GetInt32() == 3000)
            {
                Assert.Equal(0, frame.Value.GetProperty("audio").GetInt32());
                break;
            }
        }

        Assert.InRange(renegotiations, 1, 100);
        Assert.Equal(WebSocketState.Open, viewer.State);
    }

    [Fact]
    public async Task A_client_that_stops_reading_large_answers_is_closed_as_slow_once_its_queue_passes_the_byte_limit()
    {
        var meeting = await node.CreateMeetingAsync();
        var client = await SignalingClient.ConnectWithSmallReceiveBufferAsync(node.SignalingUrl, 16 * 1024);
        await using var _c = client;
        await client.SendAsync(new { type = "join", token = node.Keys.Token(meeting, Guid.NewGuid(), "reads-nothing", null) });
        await client.ExpectAsync("joined");

        // 800 answers of 32 KiB (25 MiB) are far below the 1,024-frame limit, and far above the 4 MiB byte limit plus
        // what the sockets' buffers hold (the client's is 16 KiB; the node's grows to 4 MiB at most).
        const int offers = 800;
        for (var i = 0; i < offers && client.State == WebSocketState.Open; i++)
        {
            try
            {
                await client.SendAsync(new { type = "offer", sdp = "v=0\r\nlarge-answer\r\n" });
            }
            catch (WebSocketException)
            {
                break; // Closed by the node meanwhile.
            }
        }

        // The client keeps not reading while the node answers what it sent; then it reads what it was sent.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var answers = 0;
        try
        {
            while (await client.ReceiveAsync(TimeSpan.FromSeconds(20)) is { } frame)
            {
                answers += frame.GetProperty("type").GetString() == "answer" ? 1 : 0;
            }
        }
        catch (WebSocketException)
        {
            // Cut off after the close grace: also an end the node chose.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"after {answers} answers nothing more came for 20 s, and no close");
        }

        Assert.True(answers < offers, $"all {answers} answers were queued for a client that read none");
        Assert.True(client.CloseStatus is null || (int)client.CloseStatus == 4008, $"closed with {client.CloseStatus}");
        Assert.NotEqual(WebSocketState.Open, client.State);
    }
}
