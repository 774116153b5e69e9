using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.TestSupport.Browser;
using Webinar.TestSupport.Systems;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// ICE + DTLS connect time as a stock Chromium sees it: a viewer on another host (the end-to-end tests' viewer
/// namespace, over a veth pair) joins a replica; the time runs from the page's setLocalDescription(offer) (the offer
/// is sent right after) to its RTCPeerConnection's connectionState 'connected' (ICE and DTLS done). <b>udp</b>: host
/// UDP candidates; <b>tcp</b>: every UDP datagram the viewer sends dropped by iptables, so it connects over ICE-TCP.
/// Attempts alternate, each in a fresh page. Needs root.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- connect-time --attempts 10</code>
/// </summary>
internal static class ConnectTimeRun
{
    public const string Verb = "connect-time";

    private const string Hook = """
        window.__connect = { offer: null, connected: null };
        const setLocal = RTCPeerConnection.prototype.setLocalDescription;
        RTCPeerConnection.prototype.setLocalDescription = function (...args) {
          if (window.__connect.offer === null) {
            window.__connect.offer = performance.now();
            this.addEventListener('connectionstatechange', () => {
              if (this.connectionState === 'connected' && window.__connect.connected === null) window.__connect.connected = performance.now();
            });
          }
          return setLocal.apply(this, args);
        };
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--attempts"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int attempts = options.Int("--attempts", 10, 1, 50);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var system = new ViewerNamespaceSystemFixture();
        await system.InitializeAsync();
        var times = new Dictionary<string, List<double>> { ["udp"] = [], ["tcp"] = [] };
        ChromiumFixture? chromium = null;
        try
        {
            var primary = await system.Api.CreateMeetingAsync("us-east-1");
            var replica = await system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
            chromium = await system.LaunchViewerChromiumAsync();
            for (int attempt = 0; attempt < attempts * 2; attempt++)
            {
                var mode = attempt % 2 == 0 ? "udp" : "tcp";
                if (mode == "tcp")
                {
                    await system.BlockViewerUdpAsync(block: true);
                }

                try
                {
                    var attendee = await system.Api.CreateAttendeeAsync(replica.MeetingId, "viewer-" + attempt.ToString(CultureInfo.InvariantCulture), "Receive");
                    var page = await MeetingPage.OpenAsync(chromium, system.ViewerBaseAddress, Hook);
                    var joined = await page.JoinAsync(replica.SignalingUrl, attendee.JoinToken);
                    if (joined != "joined:replica")
                    {
                        throw new InvalidOperationException("join: " + joined);
                    }

                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                    double? millis = null;
                    while (millis is null && DateTime.UtcNow < deadline)
                    {
                        millis = await page.Page.EvaluateAsync<double?>("window.__connect.connected === null ? null : window.__connect.connected - window.__connect.offer");
                        await Task.Delay(20);
                    }

                    var pair = await page.SelectedCandidatePairAsync();
                    if (millis is null || pair is null || !pair.StartsWith(mode + " ", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"{mode} attempt {attempt}: connected after {millis} ms on pair '{pair}'");
                    }

                    times[mode].Add(millis.Value);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode} {millis:0.0} ms ({pair})"));
                    await page.Page.Context.CloseAsync();
                }
                finally
                {
                    if (mode == "tcp")
                    {
                        await system.BlockViewerUdpAsync(block: false);
                    }
                }
            }
        }
        finally
        {
            if (chromium is not null)
            {
                await chromium.DisposeAsync();
            }

            await system.DisposeAsync();
        }

        Console.WriteLine($"loadavg after: {ProcessCpu.LoadAverage()}");
        Console.WriteLine("| path | attempts | median ms | min ms | max ms |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (mode, label) in new[] { ("udp", "host UDP"), ("tcp", "ICE-TCP (viewer's UDP dropped)") })
        {
            var sorted = times[mode].Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {sorted.Count} | {sorted[sorted.Count / 2]:0.0} | {sorted[0]:0.0} | {sorted[^1]:0.0} |"));
        }

        return 0;
    }
}
