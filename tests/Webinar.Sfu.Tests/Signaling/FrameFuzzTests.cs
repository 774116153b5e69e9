using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Webinar.Sfu.Signaling;
using Webinar.Sfu.Tests.Infrastructure;
using Webinar.TestSupport;

namespace Webinar.Sfu.Tests.Signaling;

[Collection(SfuNodeCollection.Name)]
public sealed class FrameFuzzTests(SfuNodeFixture node)
{
    private static readonly string[] ValidFrames =
    [
        "{\"type\":\"offer\",\"id\":\"1\",\"sdp\":\"v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=recvonly\\r\\n\"}",
        "{\"type\":\"promote\",\"token\":\"a.b.c\"}",
        "{\"type\":\"demote\",\"id\":42}",
        "{\"type\":\"join\",\"token\":\"x.y.z\",\"id\":\"j\"}",
    ];

    [Fact]
    public void Parser_never_throws_on_random_or_mutated_input()
    {
        var gen = Gen.OneOf(
            ArbMap.Default.GeneratorFor<byte[]>(),
            Mutated().Select(Encoding.UTF8.GetBytes));

        Prop.ForAll(gen.ToArbitrary(), bytes =>
        {
            var ok = ClientFrameParser.TryParse(bytes, out var frame, out _, out var error);
            return ok ? frame is not null : error.Length > 0;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));
    }

    [Fact]
    public async Task Random_and_mutated_frames_get_error_frames_and_the_node_keeps_serving()
    {
        var meeting = await node.CreateMeetingAsync();
        var primary = await node.CreateMeetingAsync();
        var replica = await node.CreateReplicaAsync(primary);
        var (client, _) = await node.JoinAsync(replica, Guid.NewGuid(), "fuzzer", primary);
        await using var _c = client;

        var inputs = Gen.OneOf(Mutated(), ArbMap.Default.GeneratorFor<string>().Where(s => s is not null)).Sample(300, 40);
        foreach (var input in inputs)
        {
            if (input.Contains("leave", StringComparison.Ordinal))
            {
                continue;
            }

            await client.SendTextAsync(input);
            var reply = await client.ReceiveAsync();
            Assert.NotNull(reply);
            Assert.Contains(reply!.Value.GetProperty("type").GetString(), new[] { "error", "answer" });
        }

        // Oversize and binary frames: errors, the session stays.
        await client.SendTextAsync("{\"type\":\"offer\",\"sdp\":\"" + new string('a', 70_000) + "\"}");
        Assert.Equal("frame-too-large", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        await client.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal("bad-request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        Assert.Equal(WebSocketState.Open, client.State);

        var (fresh, _) = await node.JoinAsync(meeting, Guid.NewGuid(), "after-fuzz");
        await fresh.DisposeAsync();
    }

    [Fact]
    public async Task Garbage_before_join_gets_an_error_and_a_close()
    {
        foreach (var input in Mutated().Sample(20, 10))
        {
            await using var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
            await client.SendTextAsync(input);
            var frames = await client.ReadUntilClosedAsync();
            Assert.Equal("error", Assert.Single(frames).GetProperty("type").GetString());
            Assert.True(client.CloseStatus is (WebSocketCloseStatus)4000 or (WebSocketCloseStatus)4002 or (WebSocketCloseStatus)4003);
        }
    }

    [Fact]
    public async Task A_text_frame_that_is_not_utf8_closes_with_the_code_signaling_md_documents_before_and_after_join()
    {
        // RFC 6455 §8.1: invalid UTF-8 in a text frame fails the connection (1007). The docs say so; this holds the
        // node to the docs' close-code table.
        var documented = File.ReadAllLines(System.IO.Path.Combine(RepositoryRoot.Path, "docs", "signaling.md"))
            .Where(l => l.StartsWith("| 1", StringComparison.Ordinal) && l.Contains("not valid UTF-8", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split('|', StringSplitOptions.TrimEntries)[1], CultureInfo.InvariantCulture))
            .ToList();
        var code = Assert.Single(documented);
        byte[] invalid = [.. "{\"type\":\"offer\",\"sdp\":\""u8, 0xC3, 0x28, 0xFF, .. "\"}"u8];

        await using (var before = await SignalingClient.ConnectAsync(node.SignalingUrl))
        {
            await before.SendBytesAsync(invalid);
            Assert.Empty(await FramesUntilFailedAsync(before));
            Assert.Equal((WebSocketCloseStatus)code, before.CloseStatus);
        }

        var meeting = await node.CreateMeetingAsync();
        var (joined, _) = await node.JoinAsync(meeting, Guid.NewGuid(), "utf8");
        await using (joined)
        {
            await joined.SendBytesAsync(invalid);
            Assert.Empty(await FramesUntilFailedAsync(joined));
            Assert.Equal((WebSocketCloseStatus)code, joined.CloseStatus);
        }
    }

    /// <summary>Frames until the close; a failed connection may reset right after its close frame (the code is read by then).</summary>
    private static async Task<List<System.Text.Json.JsonElement>> FramesUntilFailedAsync(SignalingClient client)
    {
        var frames = new List<System.Text.Json.JsonElement>();
        try
        {
            while (await client.ReceiveAsync() is { } frame)
            {
                frames.Add(frame);
            }
        }
        catch (WebSocketException)
        {
            // The node aborted the TCP connection after its close frame.
        }

        return frames;
    }

    /// <summary>Valid frames with characters flipped, deleted, duplicated or replaced by JSON punctuation.</summary>
    internal static Gen<string> Mutated() =>
        from frame in Gen.Elements(ValidFrames)
        from count in Gen.Choose(1, 6)
        from edits in Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 1000), Gen.Elements('{', '}', '"', ':', ',', '[', ']', '\\', 'x', '0', '\0', 'é')), count)
        from kind in Gen.Choose(0, 2)
        select Apply(frame, edits, kind);

    private static string Apply(string frame, (int Position, char Char)[] edits, int kind)
    {
        var s = new StringBuilder(frame);
        foreach (var (position, c) in edits)
        {
            var i = position % Math.Max(1, s.Length);
            switch (kind)
            {
                case 0:
                    s[i] = c;
                    break;
                case 1:
                    s.Remove(i, 1);
                    break;
                default:
                    s.Insert(i, c);
                    break;
            }
        }

        return s.ToString();
    }
}
