using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Webinar.EndToEnd.Tests.Infrastructure;
using Webinar.TestSupport.Browser;
using Webinar.TestSupport.Network;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Media;

/// <summary>
/// RTX (RFC 4588) with stock Chromium: a viewer whose downlink loses packets gets the node's retransmissions on the RTX
/// stream the answer announced (Chromium counts them as retransmitted packets received) and keeps decoding.
/// </summary>
public sealed class RtxTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Sends the page's media through <c>{0}:{1}</c> (the lossy forwarder): every answer's candidates are replaced by
    /// one host candidate there. The answers the page applied are kept in <c>window.remoteDescriptions</c>.
    /// </summary>
    private const string ViaForwarderScript = """
        (() => {{
          const original = RTCPeerConnection.prototype.setRemoteDescription;
          window.remoteDescriptions = [];
          RTCPeerConnection.prototype.setRemoteDescription = function (description, ...rest) {{
            if (description && typeof description.sdp === 'string') {{
              const sdp = description.sdp.split('\r\n')
                .filter(l => !l.startsWith('a=candidate:'))
                .map(l => l === 'a=end-of-candidates' ? 'a=candidate:1 1 udp 2130706431 {0} {1} typ host\r\na=end-of-candidates' : l)
                .join('\r\n');
              window.remoteDescriptions.push(sdp);
              description = {{ type: description.type, sdp }};
            }}
            return original.call(this, description, ...rest);
          }};
        }})();
        """;

    private const string VideoReceiveStatsScript = """
        async () => {
          const r = { framesDecoded: 0, packetsReceived: 0, packetsLost: 0, nackCount: 0, retransmitted: -1, freezeCount: 0 };
          const pc = window.client.peerConnection;
          if (!pc) return r;
          (await pc.getStats()).forEach(s => {
            if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
            r.framesDecoded += s.framesDecoded || 0;
            r.packetsReceived += s.packetsReceived || 0;
            r.packetsLost += s.packetsLost || 0;
            r.nackCount += s.nackCount || 0;
            r.freezeCount += s.freezeCount || 0;
            if (s.retransmittedPacketsReceived !== undefined) r.retransmitted = Math.max(r.retransmitted, 0) + s.retransmittedPacketsReceived;
          });
          return r;
        }
        """;

    private sealed record VideoReceiveStats(long FramesDecoded, long PacketsReceived, long PacketsLost, long NackCount, long Retransmitted, long FreezeCount);

    [Fact]
    public Task A_viewer_behind_a_lossy_downlink_receives_retransmissions_on_its_rtx_stream_and_keeps_decoding() => _system.RunAsync(_output, async () =>
    {
        var node = _system.Node("us-east-1");
        var address = MachineAddress();
        // 5 % of what the node sends the viewer is lost (STUN, DTLS and SRTP alike); the viewer's NACKs all arrive.
        using var forwarder = new UdpDelayForwarder(new IPEndPoint(address, 0), new IPEndPoint(address, node.UdpPort),
            new LinkProfile(TimeSpan.FromMilliseconds(10)), new LinkProfile(TimeSpan.FromMilliseconds(10), LossRate: 0.05, Seed: 4588));

        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(meeting, "presenter");
        var attendee = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, "lossy-viewer", "Receive");
        var viewer = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress,
            string.Format(CultureInfo.InvariantCulture, ViaForwarderScript, forwarder.EndPoint.Address, forwarder.EndPoint.Port));
        Assert.StartsWith("joined:", await viewer.JoinAsync(meeting.SignalingUrl, attendee.JoinToken));
        await presenter.PublishAsync();

        var first = await WaitForAsync(viewer, s => s.FramesDecoded > 60 && (s.Retransmitted > 0 || (s.Retransmitted < 0 && s.NackCount > 0)),
            "the lossy viewer to decode and receive retransmissions");
        var later = await WaitForAsync(viewer, s => s.FramesDecoded > first.FramesDecoded + 60, "the lossy viewer to keep decoding");
        _output.WriteLine($"lossy viewer: {later}; forwarder dropped {forwarder.Dropped} of {forwarder.Forwarded + forwarder.Dropped} datagrams");
        using (var http = new HttpClient())
        {
            var media = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://{node.Address}:{node.WsPort}/diagnostics/media"))).RootElement;
            _output.WriteLine($"node: nacksAnswered {media.GetProperty("nacksAnswered")}, retransmissionsRepeated {media.GetProperty("retransmissionsRepeated")}, "
                + $"retransmissionsOverBudget {media.GetProperty("retransmissionsOverBudget")}, rtxRepaired {media.GetProperty("rtxRepaired")}, "
                + $"rtxDuplicates {media.GetProperty("rtxDuplicates")}, rtxMalformed {media.GetProperty("rtxMalformed")}");
            Assert.True(media.GetProperty("nacksAnswered").GetInt64() > 0, "the node answered no NACK");
        }

        // What the viewer negotiated: rtx for VP8 and the RTX SSRC paired with the video's in an FID group.
        var answers = await viewer.Page.EvaluateAsync<string[]>("() => window.remoteDescriptions");
        var video = answers[^1].Split("m=video")[1];
        Assert.Contains("rtx/90000", video, StringComparison.Ordinal);
        Assert.Contains("a=ssrc-group:FID ", video, StringComparison.Ordinal);
        Assert.True(forwarder.Dropped > 0, "the forwarder lost nothing");
        Assert.True(later.NackCount > 0, $"the viewer never sent a NACK: {later}");
        if (later.Retransmitted >= 0)
        {
            // Chromium counts packets that came on the RTX stream: the node answered its NACKs there.
            Assert.True(later.Retransmitted > 0, $"no packet arrived on the RTX stream: {later}");
        }
        else
        {
            Assert.Equal(0, later.FreezeCount);
        }
    });

    private static async Task<VideoReceiveStats> WaitForAsync(MeetingPage page, Func<VideoReceiveStats, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + MediaTimeout;
        var last = await ReadAsync(page);
        while (!condition(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; last reading: {last}");
            }

            await Task.Delay(250);
            last = await ReadAsync(page);
        }

        return last;
    }

    private static async Task<VideoReceiveStats> ReadAsync(MeetingPage page)
    {
        var r = await page.Page.EvaluateAsync<JsonElement>(VideoReceiveStatsScript);
        return new VideoReceiveStats(
            r.GetProperty("framesDecoded").GetInt64(), r.GetProperty("packetsReceived").GetInt64(), r.GetProperty("packetsLost").GetInt64(),
            r.GetProperty("nackCount").GetInt64(), r.GetProperty("retransmitted").GetInt64(), r.GetProperty("freezeCount").GetInt64());
    }

    /// <summary>The machine's first non-loopback IPv4 address (the node listens on every address), else 127.0.0.1.</summary>
    private static IPAddress MachineAddress()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    return unicast.Address;
                }
            }
        }

        return IPAddress.Loopback;
    }
}
