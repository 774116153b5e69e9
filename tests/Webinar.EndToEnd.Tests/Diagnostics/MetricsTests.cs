using System.Globalization;
using System.Text.RegularExpressions;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Diagnostics;

/// <summary>An operator scraping /metrics of a real node and the control plane sees a live meeting's figures move.</summary>
public sealed partial class MetricsTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public Task Node_and_control_plane_metrics_show_a_live_meetings_connections_packets_and_handshakes() => _system.RunAsync(_output, async () =>
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var node = _system.Node("us-east-1");
        var nodeMetrics = new Uri($"http://{node.Address}:{node.WsPort}/metrics");
        var controlPlaneMetrics = new Uri(_system.BaseAddress, "/metrics");
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var meetingLabel = $"meeting=\"{meeting.MeetingId}\"";

        var before = await http.GetStringAsync(nodeMetrics);
        var forwardedBefore = Sum(before, "webinar_sfu_rtp_forwarded_total");
        var handshakesBefore = Sum(before, "webinar_dtls_handshakes_total", "outcome=\"ok\"");

        var presenter = await JoinAsync(meeting, "presenter");
        var viewer = await JoinAsync(meeting, "viewer", "Receive");
        await presenter.PublishAsync();
        await viewer.WaitForAsync(r => r.FramesDecoded > 10, Wait, "the presenter's video");

        var during = await PollAsync(http, nodeMetrics, text =>
            Sum(text, "webinar_sfu_connections", meetingLabel) == 2
            && Sum(text, "webinar_sfu_rtp_forwarded_total") > forwardedBefore + 100
            && Sum(text, "webinar_dtls_handshakes_total", "outcome=\"ok\"") >= handshakesBefore + 2);
        var later = await PollAsync(http, nodeMetrics, text =>
            Sum(text, "webinar_sfu_rtp_forwarded_total") > Sum(during, "webinar_sfu_rtp_forwarded_total") + 100);
        Assert.True(Sum(later, "webinar_sfu_bytes_total", "direction=\"out\"") > Sum(during, "webinar_sfu_bytes_total", "direction=\"out\""));
        Assert.True(Sum(later, "webinar_dtls_handshake_duration_seconds_count", "role=\"server\"") >= 2);
        Assert.Contains("webinar_sfu_media_thread_busy", later, StringComparison.Ordinal);

        // The control plane learns the same connections from the node's heartbeats.
        var controlPlane = await PollAsync(http, controlPlaneMetrics, text =>
            Sum(text, "webinar_controlplane_connections", meetingLabel) == 2);
        Assert.True(Sum(controlPlane, "webinar_controlplane_nodes_load") >= 2);
        Assert.Contains("webinar_controlplane_outbox_backlog", controlPlane, StringComparison.Ordinal);
    });

    private static async Task<string> PollAsync(HttpClient http, Uri url, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + Wait;
        string text;
        do
        {
            text = await http.GetStringAsync(url);
            if (done(text))
            {
                return text;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"{url} did not show the expected figures within {Wait.TotalSeconds:0} s:\n{text}");
        return text;
    }

    /// <summary>Sum of the samples of <paramref name="name"/> (exact metric name) whose labels contain <paramref name="label"/>.</summary>
    private static double Sum(string exposition, string name, string? label = null)
    {
        var total = 0.0;
        foreach (Match match in Sample().Matches(exposition))
        {
            if (match.Groups["name"].Value == name && (label is null || match.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            {
                total += double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|NaN|\+Inf)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
