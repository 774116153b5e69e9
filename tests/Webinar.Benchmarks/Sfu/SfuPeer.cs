using System.Text.Json;
using System.Text.Json.Nodes;
using Webinar.Connector.Client;
using Webinar.Connector.Signaling;

namespace Webinar.Benchmarks.Sfu;

/// <summary>One slot of the newest answer: which of our recvonly mids carries which remote stream.</summary>
internal sealed record SfuSlot(string Mid, string StreamId, string AttendeeId, string Kind);

/// <summary>
/// A C# participant of one of our SFU nodes: <see cref="SignalingChannel"/> plus a <see cref="WebRtcClient"/>. The client
/// always offers: after <c>joined</c> it offers one recvonly m-line per stream it may receive (and sendonly ones when
/// publishing); on <c>renegotiate {audio, video}</c> it adds recvonly m-lines up to those counts and offers again;
/// <see cref="PromoteAsync"/> and <see cref="DemoteAsync"/> drive a replica attendee's promotion. Offers go one at a
/// time. Media is sent by the caller on <see cref="Client"/> (one sending thread).
/// </summary>
internal sealed class SfuPeer : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(15);
    private readonly SignalingChannel _signaling;
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private volatile IReadOnlyList<SfuSlot> _slots = [];
    private int _disposed;
    private Func<string, string>? _rewriteAnswer;

    private SfuPeer(SignalingChannel signaling, WebRtcClient client, JsonElement joined)
    {
        _signaling = signaling;
        Client = client;
        Joined = joined;
        AttendeeId = joined.GetProperty("attendeeId").GetString()!;
        Role = joined.GetProperty("role").GetString()!;
    }

    public WebRtcClient Client { get; }

    public JsonElement Joined { get; }

    public string AttendeeId { get; }

    /// <summary>"primary" or "replica".</summary>
    public string Role { get; }

    public ClientTrack? SendAudio { get; private set; }

    public ClientTrack? SendVideo { get; private set; }

    public IReadOnlyList<SfuSlot> Slots => _slots;

    /// <summary>The join pre-negotiated slots (docs/signaling.md): spare receive slots, and send slots in a replica.</summary>
    public bool PreNegotiated { get; private set; }

    /// <summary>Renegotiations that failed (logged to stderr): a load run reports them rather than stopping.</summary>
    public int FailedRenegotiations { get; private set; }

    /// <summary>
    /// Opens the WebSocket, joins with <paramref name="token"/>, offers (with sendonly audio and video when
    /// <paramref name="publish"/>) and applies the answer; ICE/DTLS then run in the background (<see cref="WebRtcClient.ConnectedAsync"/>).
    /// </summary>
    /// <param name="preNegotiate">Join with <c>preNegotiate</c>: keep the node's spare receive slots and, in a replica, offer send slots.</param>
    /// <param name="rewriteAnswer">Applied to every answer before the client uses it (a benchmark routes media through an emulated link).</param>
    public static async Task<SfuPeer> JoinAsync(Uri signalingUrl, string token, WebRtcClientOptions options, bool publish, CancellationToken cancellationToken = default,
        bool preNegotiate = false, Func<string, string>? rewriteAnswer = null)
    {
        var signaling = await SignalingChannel.ConnectAsync(signalingUrl, cancellationToken);
        WebRtcClient? client = null;
        try
        {
            var join = new JsonObject { ["token"] = token };
            if (preNegotiate)
            {
                join["preNegotiate"] = true;
            }

            var joined = await signaling.RequestAsync("join", join, ReplyTimeout);
            client = new WebRtcClient(options);
            var peer = new SfuPeer(signaling, client, joined) { _rewriteAnswer = rewriteAnswer };
            var spare = 0;
            if (joined.TryGetProperty("preNegotiated", out var pre) && pre.ValueKind == JsonValueKind.True)
            {
                peer.PreNegotiated = true;
                spare = joined.GetProperty("spareSlots").GetInt32();
                if (peer.Role == "replica")
                {
                    // Send slots: negotiated now, silent until a promotion; then the caller just sends on them.
                    peer.SendAudio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
                    peer.SendVideo = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
                }
            }

            if (publish)
            {
                peer.SendAudio = client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
                peer.SendVideo = client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
            }

            int audio = 0, video = 0;
            foreach (var stream in joined.GetProperty("streams").EnumerateArray())
            {
                if (stream.GetProperty("kind").GetString() == "audio")
                {
                    audio++;
                }
                else
                {
                    video++;
                }
            }

            // A receiver with nothing to receive yet still offers a pair, so its transport connects now.
            if (!publish && audio == 0 && video == 0)
            {
                audio = video = 1;
            }

            audio += spare;
            video += spare;

            peer.EnsureReceiveSlots(audio, video);
            signaling.EventReceived = peer.OnEvent;
            await peer.NegotiateAsync();
            return peer;
        }
        catch
        {
            client?.Dispose();
            await signaling.DisposeAsync();
            throw;
        }
    }

    /// <summary>Offers the current m-lines and applies the answer and its slot map.</summary>
    public async Task NegotiateAsync()
    {
        await _negotiation.WaitAsync();
        try
        {
            var answer = await _signaling.RequestAsync("offer", new JsonObject { ["sdp"] = Client.CreateOffer() }, ReplyTimeout);
            var sdp = answer.GetProperty("sdp").GetString()!;
            if (!Client.TryApplyAnswer(_rewriteAnswer is null ? sdp : _rewriteAnswer(sdp), out string error))
            {
                throw new InvalidOperationException("The node's answer is unusable: " + error);
            }

            _slots = ReadSlots(answer);
        }
        finally
        {
            _negotiation.Release();
        }
    }

    /// <summary>
    /// <c>promote</c> with a primary attendee's token, then sendonly audio and video m-lines and a new offer on the same
    /// connection (no new ICE or DTLS). Returns when the answer is applied: media sent from then on is forwarded.
    /// </summary>
    /// <returns>When the <c>promoted</c> reply arrived (Stopwatch ticks).</returns>
    public async Task<long> PromoteAsync(string primaryToken)
    {
        await _signaling.RequestAsync("promote", new JsonObject { ["token"] = primaryToken }, ReplyTimeout);
        long promoted = System.Diagnostics.Stopwatch.GetTimestamp();
        if (PreNegotiated && Role == "replica")
        {
            return promoted; // The send slots carry media from now on: no offer.
        }

        await _negotiation.WaitAsync();
        try
        {
            SendAudio ??= Client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
            SendVideo ??= Client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.SendOnly);
            SendAudio.OfferedDirection = ClientTrackDirection.SendOnly;
            SendVideo.OfferedDirection = ClientTrackDirection.SendOnly;
        }
        finally
        {
            _negotiation.Release();
        }

        await NegotiateAsync();
        return promoted;
    }

    /// <summary><c>demote</c>, then the send m-lines offered inactive (a replica attendee may not offer to send).</summary>
    public async Task DemoteAsync()
    {
        await _signaling.RequestAsync("demote", null, ReplyTimeout);
        if (PreNegotiated && Role == "replica")
        {
            return; // The send slots stay negotiated; the caller stops sending.
        }

        await _negotiation.WaitAsync();
        try
        {
            SendAudio?.OfferedDirection = ClientTrackDirection.Inactive;
            SendVideo?.OfferedDirection = ClientTrackDirection.Inactive;
        }
        finally
        {
            _negotiation.Release();
        }

        await NegotiateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _signaling.EventReceived = null;
        await _signaling.DisposeAsync();
        Client.Dispose();
    }

    private void EnsureReceiveSlots(int audio, int video)
    {
        int haveAudio = 0, haveVideo = 0;
        foreach (var track in Client.Tracks)
        {
            if (track.OfferedDirection != ClientTrackDirection.RecvOnly)
            {
                continue;
            }

            if (track.Kind == ClientMediaKind.Audio)
            {
                haveAudio++;
            }
            else
            {
                haveVideo++;
            }
        }

        for (; haveAudio < audio; haveAudio++)
        {
            Client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        }

        for (; haveVideo < video; haveVideo++)
        {
            Client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        }
    }

    private static List<SfuSlot> ReadSlots(JsonElement frame)
    {
        var slots = new List<SfuSlot>();
        foreach (var slot in frame.GetProperty("slots").EnumerateArray())
        {
            slots.Add(new SfuSlot(slot.GetProperty("mid").GetString()!, slot.GetProperty("streamId").GetString()!,
                slot.GetProperty("attendeeId").GetString()!, slot.GetProperty("kind").GetString()!));
        }

        return slots;
    }

    private void OnEvent(string type, JsonElement frame)
    {
        if (type == "slots")
        {
            _slots = ReadSlots(frame);
            return;
        }

        if (type != "renegotiate")
        {
            return;
        }

        int audio = frame.GetProperty("audio").GetInt32();
        int video = frame.GetProperty("video").GetInt32();
        _ = Task.Run(async () =>
        {
            try
            {
                await _negotiation.WaitAsync();
                try
                {
                    EnsureReceiveSlots(audio, video);
                }
                finally
                {
                    _negotiation.Release();
                }

                await NegotiateAsync();
            }
            catch (Exception e) when (Volatile.Read(ref _disposed) == 0)
            {
                FailedRenegotiations++;
                Console.Error.WriteLine($"renegotiation of {AttendeeId} failed: {e.Message}");
            }
            catch (Exception)
            {
                // Closing.
            }
        });
    }
}
