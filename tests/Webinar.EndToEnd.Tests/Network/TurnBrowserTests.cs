using System.Collections;
using System.Text.Json;
using Microsoft.Playwright;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Network;

/// <summary>
/// Chromium (ordinary flags, the development CA trusted in its NSS database, never a flag that skips certificate
/// checks) against a node whose media address it cannot reach: every page is served over https, signalling is wss://,
/// and media can only flow through coturn.
/// </summary>
[Collection(TurnCollection.Name)]
public sealed class TurnBrowserTests(TurnSystemFixture system, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(40);

    private const string TimingScript = """
        () => {
          window.offerSentAt = null; window.connectedAt = null;
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (data) {
            if (window.offerSentAt === null && typeof data === 'string' && data.includes('"type":"offer"')) window.offerSentAt = performance.now();
            return send.call(this, data);
          };
          const Native = window.RTCPeerConnection;
          window.RTCPeerConnection = function (...args) {
            const pc = new Native(...args);
            pc.addEventListener('connectionstatechange', () => {
              if (pc.connectionState === 'connected' && window.connectedAt === null) window.connectedAt = performance.now();
            });
            return pc;
          };
          window.RTCPeerConnection.prototype = Native.prototype;
        }
        """;

    private const string SelectedPairScript = """
        async () => {
          const stats = await window.client.peerConnection.getStats();
          let pairId = null;
          stats.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
          if (!pairId) return null;
          const pair = stats.get(pairId), local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
          return { state: pair.state, localType: local.candidateType, relayProtocol: local.relayProtocol ?? '', localAddress: local.address ?? '',
                   remoteType: remote.candidateType, remoteAddress: remote.address ?? '', remotePort: remote.port };
        }
        """;

    private string _home = "";
    private ChromiumFixture _chromium = null!;

    public async Task InitializeAsync()
    {
        // A HOME of its own whose NSS database trusts the development CA, as `certutil` (libnss3-tools) would set up a user's.
        _home = Directory.CreateTempSubdirectory("webinar-e2e-chromium-home-").FullName;
        var nss = "sql:" + Path.Combine(_home, ".pki", "nssdb");
        Directory.CreateDirectory(Path.Combine(_home, ".pki", "nssdb"));
        await RepositoryTools.RunAsync("certutil", ["-N", "-d", nss, "--empty-password"], null);
        await RepositoryTools.RunAsync("certutil", ["-A", "-d", nss, "-t", "C,,", "-n", "Webinar development CA", "-i", system.CaFile], null);

        var environment = new Dictionary<string, string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = (string?)e.Value ?? "";
        }

        environment["HOME"] = _home;
        _chromium = new ChromiumFixture(environment, _ => true);
        await _chromium.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _chromium.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public Task A_viewer_that_reaches_the_node_only_through_coturn_decodes_the_presenter_over_a_relay_candidate() => system.RunAsync(output, async () =>
    {
        var meeting = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(30));
        Assert.StartsWith("wss://", meeting.SignalingUrl);
        var presenter = await JoinAsync(meeting, "presenter", null);
        await presenter.PublishAsync();

        // Several viewers one after the other, each connecting through coturn on its own.
        for (var i = 1; i <= 3; i++)
        {
            var viewer = await MeetingPage.OpenAsync(_chromium, system.HttpsAddress);
            await viewer.Page.EvaluateAsync(TimingScript);
            var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, $"viewer-{i}", "Receive");
            Assert.Equal("joined:primary", await viewer.JoinAsync(meeting.SignalingUrl, attendee.JoinToken));
            var media = await viewer.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "the presenter's video through coturn");

            var pair = await viewer.Page.EvaluateAsync<JsonElement?>(SelectedPairScript);
            Assert.NotNull(pair);
            Assert.Equal("relay", pair.Value.GetProperty("localType").GetString());
            Assert.Equal(system.TurnAddress, pair.Value.GetProperty("localAddress").GetString());
            Assert.Equal(system.NodeMediaAddress, pair.Value.GetProperty("remoteAddress").GetString());

            var connect = await viewer.Page.EvaluateAsync<double?>("window.connectedAt === null || window.offerSentAt === null ? null : window.connectedAt - window.offerSentAt");
            output.WriteLine($"viewer-{i}: decoded {media.FramesDecoded} frames ({media.FrameWidth}x{media.FrameHeight}); selected pair {pair.Value.GetRawText()}; " +
                $"ICE+DTLS through TURN (offer sent -> connected): {connect:0} ms");
            await viewer.Page.CloseAsync();
        }
    });

    [Fact]
    public Task The_demo_opened_over_https_creates_a_webinar_and_plays_the_presenter_in_an_audience_view() => system.RunAsync(output, async () =>
    {
        var console = await _chromium.NewPageAsync();
        await console.GotoAsync(system.HttpsAddress + "#apiKey=" + system.ApiKey);
        // Served from a non-loopback address, the page is a secure context (camera allowed) only thanks to https.
        Assert.True(await console.EvaluateAsync<bool>("window.isSecureContext"));
        await console.FillAsync("#primaryRegion", "us-east-1");
        await console.FillAsync("#replicaRegions", "us-east-1");
        await console.ClickAsync("#create");
        await console.WaitForSelectorAsync("text=Open presenter view", new PageWaitForSelectorOptions { Timeout = 30_000 });

        var presenterView = await console.RunAndWaitForPopupAsync(() => console.ClickAsync("text=Open presenter view"));
        Assert.StartsWith("https://", presenterView.Url);
        await presenterView.ClickAsync("#publish", new PageClickOptions { Timeout = 30_000 });

        var audienceView = await console.RunAndWaitForPopupAsync(() => console.ClickAsync("text=Open audience view"));
        Assert.StartsWith("https://", audienceView.Url);
        var deadline = DateTime.UtcNow + MediaTimeout;
        long frames = 0;
        while (frames <= 10)
        {
            if (DateTime.UtcNow > deadline)
            {
                var status = await audienceView.EvaluateAsync<string>("document.body.innerText");
                throw new Xunit.Sdk.XunitException($"The audience view showed {frames} frames of the presenter; page: {status}");
            }

            await Task.Delay(250);
            frames = await audienceView.EvaluateAsync<long>(
                "Math.max(0, ...[...document.querySelectorAll('video')].map(v => v.getVideoPlaybackQuality().totalVideoFrames))");
        }

        output.WriteLine($"audience view rendered {frames} frames of the presenter");
    });

    private async Task<MeetingPage> JoinAsync(ApiMeeting meeting, string user, string? capability)
    {
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, user, capability);
        var page = await MeetingPage.OpenAsync(_chromium, system.HttpsAddress);
        page.Page.Console += (_, message) => output.WriteLine($"[{user} console] {message.Text}");
        Assert.StartsWith("joined:", await page.JoinAsync(meeting.SignalingUrl, attendee.JoinToken));
        return page;
    }
}
