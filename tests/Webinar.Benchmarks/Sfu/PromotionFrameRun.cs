using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.TestSupport.Browser;
using Webinar.TestSupport.Systems;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Promote → first decoded frame at the presenter, with real Chromium on loopback: a presenter joins the
/// us-east-1 primary and publishes; an audience member joins the eu-west-1 replica (another node process), has its
/// camera open already, then calls <c>promote()</c> and <c>publish()</c>. The time runs from just before
/// <c>promote()</c> in the audience page to the presenter's first presented frame of the new speaker
/// (<c>requestVideoFrameCallback</c>), both read on one clock (<c>performance.timeOrigin + performance.now()</c>).
/// <b>pre-negotiated</b>: both pages join with <c>preNegotiate</c> (send slots, spare receive slots: no offer after
/// the promotion); <b>re-offer</b>: neither does (the speaker re-offers, the presenter renegotiates). Attempts alternate,
/// each with fresh meetings and pages.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- promote-frame --attempts 5</code>
/// </summary>
internal static class PromotionFrameRun
{
    public const string Verb = "promote-frame";

    private const string OpenCamera = """
        async () => {
          window.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720, frameRate: 30 } });
          return true;
        }
        """;

    private const string PromoteAndPublish = """
        async (token) => {
          const now = () => performance.timeOrigin + performance.now();
          const started = now();
          await window.client.promote(token);
          const promoted = now();
          await window.client.publish(window.localStream);
          return [started, promoted, now()];
        }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--attempts"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int attempts = options.Int("--attempts", 5, 1, 30);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        await using var system = await BenchmarkSystem.StartAsync("us-east-1", "eu-west-1");
        var chromium = new ChromiumFixture();
        await chromium.InitializeAsync();
        var times = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        var promotedReplies = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        try
        {
            for (int attempt = 1; attempt <= attempts * 2; attempt++)
            {
                bool preNegotiate = attempt % 2 == 1;
                var mode = preNegotiate ? "pre-negotiated" : "re-offer";
                var primary = await system.Api.CreateMeetingAsync("us-east-1");
                var replica = await system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
                var presenter = await JoinAsync(system, chromium, primary, "presenter", null, preNegotiate);
                await presenter.PublishAsync();
                var audience = await JoinAsync(system, chromium, replica, "audience", "Receive", preNegotiate);
                await audience.WaitForAsync(r => r.FramesDecoded > 5, TimeSpan.FromSeconds(30), "the presenter at the audience");
                await audience.Page.EvaluateAsync<bool>(OpenCamera);
                var speaker = await system.Api.CreateAttendeeAsync(primary.MeetingId, "speaker-" + attempt.ToString(CultureInfo.InvariantCulture));
                await Task.Delay(TimeSpan.FromSeconds(1));

                var marks = await audience.Page.EvaluateAsync<double[]>(PromoteAndPublish, speaker.JoinToken);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                double? shown = null;
                while (shown is null && DateTime.UtcNow < deadline)
                {
                    shown = await presenter.Page.EvaluateAsync<double?>("window.firstFrameAt === null ? null : performance.timeOrigin + window.firstFrameAt");
                    await Task.Delay(10);
                }

                if (shown is { } at)
                {
                    times[preNegotiate].Add(at - marks[0]);
                    promotedReplies[preNegotiate].Add(marks[1] - marks[0]);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"attempt {attempt,2} {mode,-14} {at - marks[0],7:0.0} ms to the presenter's first frame (promoted {marks[1] - marks[0]:0.0} ms, publish done {marks[2] - marks[0]:0.0} ms)"));
                }
                else
                {
                    Console.WriteLine($"attempt {attempt,2} {mode,-14} no frame at the presenter within 30 s");
                }

                await audience.Page.Context.CloseAsync();
                await presenter.Page.Context.CloseAsync();
                await system.Api.DeleteMeetingAsync(primary.MeetingId);
            }
        }
        catch
        {
            Console.Error.WriteLine(system.Logs());
            throw;
        }
        finally
        {
            await chromium.DisposeAsync();
        }

        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loadavg after: {ProcessCpu.LoadAverage()}; load generator (this process, not Chromium) CPU {cpu.TotalSeconds:0.0} s"));
        Console.WriteLine("| Chromium on loopback | attempts | median (ms) | min (ms) | max (ms) | median promote → promoted (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (pre, label) in new[] { (true, "pre-negotiated: promote → first frame at the presenter"), (false, "re-offer: promote → first frame at the presenter") })
        {
            var sorted = times[pre].Order().ToList();
            var replies = promotedReplies[pre].Order().ToList();
            Console.WriteLine(sorted.Count == 0 ? $"| {label} | 0 | – | – | – | – |" : string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {sorted.Count} | {sorted[sorted.Count / 2]:0.0} | {sorted[0]:0.0} | {sorted[^1]:0.0} | {replies[replies.Count / 2]:0.0} |"));
        }

        if (times[true].Count > 0 && times[false].Count > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio of medians pre-negotiated/re-offer: {times[true].Order().ToList()[times[true].Count / 2] / times[false].Order().ToList()[times[false].Count / 2]:0.00}; target ≤ 300 ms"));
        }

        return 0;
    }

    private static async Task<MeetingPage> JoinAsync(BenchmarkSystem system, ChromiumFixture chromium, ApiMeeting meeting, string user, string? capability, bool preNegotiate)
    {
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, user, capability);
        var page = await MeetingPage.OpenAsync(chromium, system.BaseAddress);
        var joined = await page.JoinAsync(meeting.SignalingUrl, attendee.JoinToken, preNegotiate);
        return joined.StartsWith("joined:", StringComparison.Ordinal) ? page : throw new InvalidOperationException($"{user}: {joined}");
    }
}
