using System.Text.Json.Nodes;
using Webinar.Connector.Client;

namespace Webinar.TestSupport.Janus;

/// <summary>
/// The signalling a Janus demo page does, for our <see cref="WebRtcClient"/>: an echotest peer, a videoroom publisher
/// (we offer, Janus answers) and a videoroom subscriber (Janus offers, we answer). Each returns once the SDP exchange
/// is done; the caller awaits <see cref="WebRtcClient.ConnectedAsync"/>.
/// </summary>
public static class JanusPeers
{
    public const string EchoTest = "janus.plugin.echotest";
    public const string VideoRoom = "janus.plugin.videoroom";

    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Attaches the echotest plugin and sends the client's offer; applies Janus's answer.</summary>
    public static async Task<long> StartEchoTestAsync(JanusSession session, WebRtcClient client)
    {
        long handle = await session.AttachAsync(EchoTest);
        await session.SendMessageAsync(handle, new JsonObject { ["audio"] = true, ["video"] = true }, "offer", client.CreateOffer());
        var (_, answer) = await session.WaitForJsepAsync(handle, "answer", EventTimeout);
        Apply(client.TryApplyAnswer(answer, out string error), error, answer);
        return handle;
    }

    /// <summary>Creates a VP8/Opus room with transport-wide CC and returns its id.</summary>
    public static async Task<long> CreateRoomAsync(JanusSession session, int publishers = 4)
    {
        long handle = await session.AttachAsync(VideoRoom);
        long room = Random.Shared.NextInt64(1_000_000, 1_000_000_000);
        await session.RequestAsync(handle, new JsonObject
        {
            ["request"] = "create",
            ["room"] = room,
            ["publishers"] = publishers,
            ["videocodec"] = "vp8",
            ["audiocodec"] = "opus",
            ["bitrate"] = 0,
            ["fir_freq"] = 0,
            ["transport_wide_cc_ext"] = true,
            ["notify_joining"] = false,
        });
        return room;
    }

    /// <summary>Joins <paramref name="room"/> as a publisher and publishes the client's offer. Returns the handle and feed id.</summary>
    public static async Task<(long Handle, long FeedId)> PublishAsync(JanusSession session, long room, WebRtcClient client, string display = "publisher")
    {
        long handle = await session.AttachAsync(VideoRoom);
        await session.SendMessageAsync(handle, new JsonObject { ["request"] = "join", ["ptype"] = "publisher", ["room"] = room, ["display"] = display });
        var joined = await session.WaitForEventAsync(handle, e => Data(e)?["videoroom"]?.GetValue<string>() == "joined", EventTimeout);
        long feed = Data(joined)!["id"]!.GetValue<long>();
        await session.SendMessageAsync(handle, new JsonObject { ["request"] = "publish", ["audio"] = true, ["video"] = true }, "offer", client.CreateOffer());
        var (_, answer) = await session.WaitForJsepAsync(handle, "answer", EventTimeout);
        Apply(client.TryApplyAnswer(answer, out string error), error, answer);
        return (handle, feed);
    }

    /// <summary>Subscribes the client to <paramref name="feed"/>: Janus offers, the client answers, Janus starts the stream.</summary>
    public static async Task<long> SubscribeAsync(JanusSession session, long room, long feed, WebRtcClient client)
    {
        long handle = await session.AttachAsync(VideoRoom);
        await session.SendMessageAsync(handle, new JsonObject
        {
            ["request"] = "join",
            ["ptype"] = "subscriber",
            ["room"] = room,
            ["streams"] = new JsonArray(new JsonObject { ["feed"] = feed }),
        });
        var (_, offer) = await session.WaitForJsepAsync(handle, "offer", EventTimeout);
        Apply(client.TryAcceptOffer(offer, out string answer, out string error), error, offer);
        await session.SendMessageAsync(handle, new JsonObject { ["request"] = "start", ["room"] = room }, "answer", answer);
        await session.WaitForEventAsync(handle, e => Data(e)?["started"]?.GetValue<string>() == "ok", EventTimeout);
        return handle;
    }

    private static JsonObject? Data(JsonObject e) => e["plugindata"]?["data"] as JsonObject;

    private static void Apply(bool applied, string error, string sdp)
    {
        if (!applied)
        {
            throw new InvalidOperationException($"The client refused Janus's SDP: {error}\n{sdp}");
        }
    }
}
