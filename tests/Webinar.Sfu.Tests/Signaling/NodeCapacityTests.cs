using System.Net.WebSockets;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Signaling;

/// <summary>A node with a capacity of three connections.</summary>
public sealed class SmallNodeFixture : SfuNodeFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?> { ["Sfu:MaxConnections"] = "3" };
}

public sealed class NodeCapacityTests(SmallNodeFixture node) : IClassFixture<SmallNodeFixture>
{
    [Fact]
    public async Task A_node_at_its_capacity_refuses_a_join_to_any_meeting_with_node_full_and_admits_again_once_one_leaves()
    {
        var first = await node.CreateMeetingAsync();
        var second = await node.CreateMeetingAsync();
        var (a, _) = await node.JoinAsync(first, Guid.NewGuid(), "a");
        await using var _a = a;
        var (b, _) = await node.JoinAsync(first, Guid.NewGuid(), "b");
        await using var _b = b;
        var (c, _) = await node.JoinAsync(second, Guid.NewGuid(), "c");

        await using (var refused = await SignalingClient.ConnectAsync(node.SignalingUrl))
        {
            await refused.SendAsync(new { type = "join", id = "full", token = node.Keys.Token(second, Guid.NewGuid(), "d") });
            var frames = await refused.ReadUntilClosedAsync();

            var error = Assert.Single(frames);
            Assert.Equal("node-full", error.GetProperty("code").GetString());
            Assert.Equal("full", error.GetProperty("id").GetString());
            Assert.Equal((WebSocketCloseStatus)4013, refused.CloseStatus);
        }

        await c.DisposeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await using var retry = await SignalingClient.ConnectAsync(node.SignalingUrl);
            await retry.SendAsync(new { type = "join", token = node.Keys.Token(second, Guid.NewGuid(), "d") });
            var answer = await retry.ReceiveAsync(TimeSpan.FromSeconds(20));
            if (answer!.Value.GetProperty("type").GetString() == "joined")
            {
                break;
            }

            Assert.Equal("node-full", answer.Value.GetProperty("code").GetString());
            Assert.True(DateTime.UtcNow < deadline, "the node kept refusing after a connection left");
            await Task.Delay(200);
        }
    }
}
