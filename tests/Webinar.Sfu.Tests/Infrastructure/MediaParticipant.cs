using System.Text.Json;
using Webinar.Connector.Client;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>
/// A participant with real media against a node host: the signalling client plus a C# <see cref="WebRtcClient"/>. It
/// joins with <c>preNegotiate</c> (spare receive slots; in a replica, an audio send slot offered at join), offers once,
/// connects (ICE, DTLS) and, when told to, sends audio on its send slot every few milliseconds until disposed.
/// </summary>
internal sealed class MediaParticipant : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _sending = Task.CompletedTask;

    private MediaParticipant(SignalingClient signaling, WebRtcClient client, JsonElement joined, ClientTrack? sendAudio)
    {
        Signaling = signaling;
        Client = client;
        Joined = joined;
        SendAudio = sendAudio;
    }

    public SignalingClient Signaling { get; }

    public WebRtcClient Client { get; }

    public JsonElement Joined { get; }

    public ClientTrack? SendAudio { get; }

    /// <summary>RTP packets received, over every SSRC.</summary>
    public long PacketsReceived => Client.Received.Sum(r => r.Packets);

    public static async Task<MediaParticipant> JoinAsync(Uri signalingUrl, string token, TimeSpan wait)
    {
        var signaling = await SignalingClient.ConnectAsync(signalingUrl);
        await signaling.SendAsync(new { type = "join", id = "j", token, preNegotiate = true });
        var joined = await signaling.ExpectAsync("joined", wait);
        var client = new WebRtcClient();
        ClientTrack? sendAudio = null;
        if (joined.GetProperty("role").GetString() == "replica")
        {
            sendAudio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        }

        var spare = joined.GetProperty("spareSlots").GetInt32();
        for (var i = 0; i < spare; i++)
        {
            client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
            client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        }

        await signaling.SendAsync(new { type = "offer", id = "o", sdp = client.CreateOffer() });
        var answer = await signaling.ExpectAsync("answer", wait);
        Assert.True(client.TryApplyAnswer(AtLoopback(answer.GetProperty("sdp").GetString()!), out var error), error);
        await client.ConnectedAsync(wait);
        return new MediaParticipant(signaling, client, joined, sendAudio);
    }

    /// <summary>Sends audio on the send slot every 5 ms from now on (dropped by the node until a promotion publishes it).</summary>
    public void StartSending()
    {
        var track = SendAudio ?? throw new InvalidOperationException("Only a replica participant has a send slot.");
        _sending = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Client.SendAudio(track);
                try
                {
                    await Task.Delay(5, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sending;
        Client.Dispose();
        await Signaling.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>The node's UDP candidates at 127.0.0.1 (the client's socket is on loopback), TCP ones dropped.</summary>
    private static string AtLoopback(string sdp)
    {
        var kept = new List<string>();
        foreach (var line in sdp.Split("\r\n"))
        {
            if (!line.StartsWith("a=candidate:", StringComparison.Ordinal))
            {
                kept.Add(line);
                continue;
            }

            var parts = line.Split(' ');
            if (parts.Length > 5 && parts[2].Equals("udp", StringComparison.OrdinalIgnoreCase))
            {
                parts[4] = "127.0.0.1";
                kept.Add(string.Join(' ', parts));
            }
        }

        return string.Join("\r\n", kept);
    }
}
