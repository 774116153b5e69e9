using Microsoft.Playwright;

namespace Webinar.TestSupport.Browser;

/// <summary>What one attendee's browser received, read from its RTCPeerConnection's getStats().</summary>
public sealed record ReceivedMedia(long FramesDecoded, long AudioPacketsReceived, int FrameWidth, int FrameHeight, int VideoTracks);

/// <summary>
/// One attendee in a real Chromium page: webinar.js joins with a token, may publish the fake camera (1280x720) and
/// microphone, and renders every received video into a &lt;video&gt; element, as the demo does.
/// </summary>
public sealed class MeetingPage
{
    private const string JoinScript = """
        async ([url, token, preNegotiate]) => {
          const { WebinarClient } = await import('/webinar.js');
          const client = new WebinarClient({ preNegotiate: preNegotiate === 'true' });
          window.client = client;
          window.ended = null;
          window.presence = [];
          window.errors = [];
          window.joinStartedAt = performance.now();
          window.firstFrameAt = null;
          client.addEventListener('disconnected', e => { window.ended = e.detail; });
          client.addEventListener('meeting-ended', e => { window.ended = e.detail; });
          client.addEventListener('error', e => { window.errors.push(e.detail.code); });
          client.addEventListener('attendee-joined', e => { window.presence.push('+' + e.detail.externalUserId); });
          client.addEventListener('attendee-left', e => { window.presence.push('-' + e.detail.externalUserId); });
          window.streamEvents = [];
          client.addEventListener('stream-added', e => { window.streamEvents.push('+' + e.detail.kind + ':' + e.detail.externalUserId); });
          client.addEventListener('stream-removed', e => { window.streamEvents.push('-' + e.detail.kind + ':' + e.detail.externalUserId); });
          client.addEventListener('track', e => {
            if (e.detail.kind !== 'video') return;
            let v = document.getElementById('v-' + e.detail.attendee.attendeeId);
            if (!v) {
              v = document.createElement('video');
              v.id = 'v-' + e.detail.attendee.attendeeId;
              v.muted = true; v.autoplay = true; v.playsInline = true;
              v.dataset.user = e.detail.attendee.externalUserId;
              document.body.appendChild(v);
              const onFrame = () => { if (window.firstFrameAt === null) window.firstFrameAt = performance.now(); };
              v.requestVideoFrameCallback(onFrame);
            }
            v.srcObject = e.detail.stream;
          });
          try { const joined = await client.join(url, token); return 'joined:' + joined.role; }
          catch (e) { return e.code; }
        }
        """;

    private const string PublishScript = """
        async ([simulcast, width, height]) => {
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width, height, frameRate: 30 } });
          window.localStream = stream;
          await window.client.publish(stream, { simulcast });
          return stream.getVideoTracks()[0].getSettings().width;
        }
        """;

    private const string ReceivedScript = """
        async () => {
          const r = { framesDecoded: 0, audioPacketsReceived: 0, frameWidth: 0, frameHeight: 0, videoTracks: 0 };
          const pc = window.client.peerConnection;
          if (!pc) return r;
          (await pc.getStats()).forEach(s => {
            if (s.type !== 'inbound-rtp') return;
            if (s.kind === 'video') {
              r.framesDecoded += s.framesDecoded || 0;
              r.frameWidth = Math.max(r.frameWidth, s.frameWidth || 0);
              r.frameHeight = Math.max(r.frameHeight, s.frameHeight || 0);
            } else if (s.kind === 'audio') {
              r.audioPacketsReceived += s.packetsReceived || 0;
            }
          });
          r.videoTracks = document.querySelectorAll('video').length;
          return r;
        }
        """;

    /// <summary>The sum of one field over the page's outgoing video streams (getStats outbound-rtp).</summary>
    private const string SentVideoScript = """
        async (field) => {
          let total = 0;
          (await window.client.peerConnection.getStats()).forEach(s => {
            if (s.type === 'outbound-rtp' && s.kind === 'video') total += s[field] || 0;
          });
          return total;
        }
        """;

    private MeetingPage(IPage page) => Page = page;

    public IPage Page { get; }

    /// <param name="initScript">Script run in the page before its own (benchmarks hook RTCPeerConnection with it).</param>
    public static async Task<MeetingPage> OpenAsync(ChromiumFixture chromium, Uri baseAddress, string? initScript = null)
    {
        var page = await chromium.NewPageAsync();
        if (initScript is not null)
        {
            await page.AddInitScriptAsync(initScript);
        }

        await page.GotoAsync(baseAddress + "index.html");
        return new MeetingPage(page);
    }

    /// <summary>Joins; returns "joined:primary", "joined:replica" or the error code.</summary>
    /// <param name="preNegotiate">webinar.js pre-negotiates its slots (docs/signaling.md, "Pre-negotiated slots").</param>
    public Task<string> JoinAsync(string signalingUrl, string token, bool preNegotiate = false) =>
        Page.EvaluateAsync<string>(JoinScript, new[] { signalingUrl, token, preNegotiate ? "true" : "false" });

    /// <summary>
    /// An init script that records the type of every signalling frame the page's WebSockets send (<c>&gt;type</c>) and
    /// receive (<c>&lt;type</c>) in <c>window.signalingFrames</c>, on the wire, whatever the client library does.
    /// </summary>
    public const string SignalingFrameLog = """
        window.signalingFrames = [];
        (() => {
          const Native = window.WebSocket;
          const typeOf = (data) => { try { return JSON.parse(data).type; } catch { return '?'; } };
          window.WebSocket = class extends Native {
            constructor(...args) {
              super(...args);
              this.addEventListener('message', (e) => window.signalingFrames.push('<' + typeOf(e.data)));
            }
            send(data) { window.signalingFrames.push('>' + typeOf(data)); return super.send(data); }
          };
        })();
        """;

    /// <summary>The signalling frames logged by <see cref="SignalingFrameLog"/> so far.</summary>
    public Task<string[]> SignalingFramesAsync() => Page.EvaluateAsync<string[]>("() => window.signalingFrames");

    /// <summary>Publishes the fake camera and microphone; returns the camera's width.</summary>
    /// <summary>Publishes the fake camera (1280x720 unless told) and microphone; returns the camera's width.</summary>
    public Task<int> PublishAsync(bool simulcast = false, int width = 1280, int height = 720) =>
        Page.EvaluateAsync<int>(PublishScript, new object[] { simulcast, width, height });

    /// <summary>
    /// Asks the browser to keep the camera's resolution when it is short of CPU (dropping frames instead), as a
    /// presenter sharing detail would. Chromium otherwise halves the resolution on a loaded machine, and with it the
    /// bitrate it would send whatever the bandwidth estimate says.
    /// </summary>
    public Task MaintainResolutionAsync() => Page.EvaluateAsync("""
        async () => {
          for (const sender of window.client.peerConnection.getSenders()) {
            if (!sender.track || sender.track.kind !== 'video') continue;
            const parameters = sender.getParameters();
            parameters.degradationPreference = 'maintain-resolution';
            await sender.setParameters(parameters);
          }
        }
        """);

    public async Task<ReceivedMedia> ReceivedAsync()
    {
        var r = await Page.EvaluateAsync<System.Text.Json.JsonElement>(ReceivedScript);
        return new ReceivedMedia(
            r.GetProperty("framesDecoded").GetInt64(),
            r.GetProperty("audioPacketsReceived").GetInt64(),
            r.GetProperty("frameWidth").GetInt32(),
            r.GetProperty("frameHeight").GetInt32(),
            r.GetProperty("videoTracks").GetInt32());
    }

    /// <summary>What limits the page's outgoing video, for a failure message: bandwidth estimate, encoder target, size, fps, reason.</summary>
    public Task<string> SendSideDiagnosticsAsync() => Page.EvaluateAsync<string>("""
        async () => {
          const out = [];
          (await window.client.peerConnection.getStats()).forEach(s => {
            if (s.type === 'candidate-pair' && s.nominated) out.push(`available=${s.availableOutgoingBitrate} rtt=${s.currentRoundTripTime}`);
            if (s.type === 'outbound-rtp' && s.kind === 'video') out.push(`target=${s.targetBitrate} size=${s.frameWidth}x${s.frameHeight} fps=${s.framesPerSecond} limited-by=${s.qualityLimitationReason} encoder=${s.encoderImplementation} plis=${s.pliCount} nacks=${s.nackCount} resent=${s.retransmittedPacketsSent}/${s.packetsSent} keyframes=${s.keyFramesEncoded}`);
            if (s.type === 'remote-inbound-rtp' && s.kind === 'video') out.push(`remote: lost=${s.packetsLost} fraction=${s.fractionLost} rtt=${s.roundTripTime}`);
          });
          return out.join('; ');
        }
        """);

    /// <summary>
    /// The selected ICE candidate pair, from getStats(): "protocol local-address -> remote-address:port", e.g.
    /// "tcp 10.1.9.2 -> 10.1.9.1:20001"; null before one is selected.
    /// </summary>
    public Task<string?> SelectedCandidatePairAsync() => Page.EvaluateAsync<string?>("""
        async () => {
          const stats = await window.client.peerConnection.getStats();
          let pairId = null;
          stats.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
          const pair = pairId && stats.get(pairId);
          if (!pair) return null;
          const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
          return `${local.protocol} ${local.address} -> ${remote.address}:${remote.port}`;
        }
        """);

    /// <summary>Total video bytes this page has sent.</summary>
    public Task<long> VideoBytesSentAsync() => Page.EvaluateAsync<long>(SentVideoScript, "bytesSent");

    /// <summary>Total video frames this page's encoder has produced.</summary>
    public Task<long> VideoFramesEncodedAsync() => Page.EvaluateAsync<long>(SentVideoScript, "framesEncoded");

    /// <summary>Waits until the page has presented its first received video frame; milliseconds from the start of join.</summary>
    public async Task<double> WaitForFirstPresentedFrameAsync(TimeSpan timeout)
    {
        await Page.WaitForFunctionAsync("window.firstFrameAt !== null", null, new PageWaitForFunctionOptions { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = 50 });
        return await Page.EvaluateAsync<double>("window.firstFrameAt - window.joinStartedAt");
    }

    public Task<string[]> PresenceAsync() => Page.EvaluateAsync<string[]>("window.presence");

    /// <summary>
    /// Waits until the frames this page decodes stop increasing for <paramref name="quiet"/> (a sender stopped), and
    /// returns the final count; fails if they still increase after <paramref name="timeout"/>.
    /// </summary>
    public async Task<long> WaitForStableFramesAsync(TimeSpan quiet, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = (await ReceivedAsync()).FramesDecoded;
        var stableSince = DateTime.UtcNow;
        while (DateTime.UtcNow - stableSince < quiet)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Frames still arriving after {timeout.TotalSeconds:0} s (now {last})");
            }

            await Task.Delay(200);
            var now = (await ReceivedAsync()).FramesDecoded;
            if (now != last)
            {
                last = now;
                stableSince = DateTime.UtcNow;
            }
        }

        return last;
    }

    /// <summary>Stream announcements so far, in order: "+video:presenter", "-audio:presenter", ...</summary>
    public Task<string[]> StreamEventsAsync() => Page.EvaluateAsync<string[]>("window.streamEvents");

    /// <summary>Why the session ended ("deleted", "closed", ...), or null while it lasts.</summary>
    public Task<string?> EndedReasonAsync() => Page.EvaluateAsync<string?>("window.ended === null ? null : String(window.ended.reason)");

    /// <summary>Video frames the page has rendered from one attendee's camera so far (0 when none is shown).</summary>
    public Task<long> FramesRenderedOfAsync(string externalUserId) => Page.EvaluateAsync<long>("""
        user => {
          const v = [...document.querySelectorAll('video')].find(x => x.dataset.user === user);
          return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
        }
        """, externalUserId);

    /// <summary>Waits until the page has rendered more than <paramref name="frames"/> frames of one attendee's camera.</summary>
    public async Task<long> WaitForFramesOfAsync(string externalUserId, long frames, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = await FramesRenderedOfAsync(externalUserId);
        while (last <= frames)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; {last} frames of {externalUserId} rendered");
            }

            await Task.Delay(200);
            last = await FramesRenderedOfAsync(externalUserId);
        }

        return last;
    }

    /// <summary>Waits until <paramref name="condition"/> holds for what this page received, or fails with the last reading.</summary>
    public async Task<ReceivedMedia> WaitForAsync(Func<ReceivedMedia, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = await ReceivedAsync();
        while (!condition(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; last reading: {last}");
            }

            await Task.Delay(200);
            last = await ReceivedAsync();
        }

        return last;
    }
}
