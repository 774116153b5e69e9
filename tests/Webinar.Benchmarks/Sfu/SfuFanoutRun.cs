using System.Globalization;
using Webinar.Benchmarks.Janus;
using Webinar.Benchmarks.LoadRun;
using Webinar.Media.Client;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Load run against our node, then Janus with the same load in the same run: one C# publisher (Opus 50 packets/s + VP8
/// about 1.5 Mbit/s) and N C# subscribers in a us-east-1 primary; forwarded packets/s, sequence-gap loss, the node's
/// CPU (/proc/&lt;pid&gt;/stat over the window) and forwarded packets per node CPU-second, and the ratio ours/Janus.
/// Bounded: stops by itself after start-up, two warm-ups and two windows of <c>--seconds</c>.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- sfu-fanout --subscribers 10 --seconds 12</code>
/// </summary>
internal static class SfuFanoutRun
{
    public const string Verb = "sfu-fanout";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--subscribers", "--seconds", "--bitrate", "--skip-janus"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int subscribers = options.Int("--subscribers", 10, 1, 240);
        int seconds = options.Int("--seconds", 12, 1, 120);
        int bitrate = options.Int("--bitrate", 1_500_000, 100_000, 10_000_000);
        bool skipJanus = options.Int("--skip-janus", 0, 0, 1) == 1;

        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        var ours = await MeasureOursAsync(subscribers, seconds, bitrate);
        ours.Print();
        if (skipJanus)
        {
            return 0;
        }

        Console.WriteLine($"loadavg before Janus: {ProcessCpu.LoadAverage()}");
        var janus = await JanusFanoutRun.MeasureAsync(subscribers, seconds, bitrate);
        janus.Print();
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"ratio ours/Janus, forwarded packets per CPU-second: {ours.ForwardedPerCpuSecond / janus.ForwardedPerCpuSecond:0.00} ({ours.ForwardedPerCpuSecond:0} / {janus.ForwardedPerCpuSecond:0}); CPU {100 * ours.ServerCpu:0.0} % vs {100 * janus.ServerCpu:0.0} %"));
        return 0;
    }

    private static async Task<FanoutFigures> MeasureOursAsync(int subscribers, int seconds, int bitrate)
    {
        await using var system = await BenchmarkSystem.StartAsync("us-east-1");
        int nodePid = system.NodePid("us-east-1");
        var meeting = await system.Api.CreateMeetingAsync("us-east-1");
        var url = system.SignalingUrl(meeting);
        var presenter = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "presenter");
        var audience = new List<Webinar.EndToEnd.Tests.Infrastructure.ApiAttendee>();
        for (int i = 0; i < subscribers; i += 100)
        {
            audience.AddRange(await system.Api.BatchCreateAttendeesAsync(meeting.MeetingId,
                Enumerable.Range(i, Math.Min(100, subscribers - i)).Select(n => "viewer-" + n.ToString(CultureInfo.InvariantCulture))));
        }

        Console.WriteLine($"our node pid {nodePid} at {url}; {subscribers} subscribers, {seconds} s, video {bitrate / 1000} kbit/s");
        var options = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(url, presenter.JoinToken, options, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var pump = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo, bitrate);
            pump.Start();

            var receivers = new List<WebRtcClient>(subscribers);
            foreach (var attendee in audience)
            {
                var subscriber = await SfuPeer.JoinAsync(url, attendee.JoinToken, options, publish: false);
                peers.Add(subscriber);
                receivers.Add(subscriber.Client);
            }

            foreach (var subscriber in receivers)
            {
                await subscriber.ConnectedAsync(TimeSpan.FromSeconds(30));
            }

            Console.WriteLine($"all connected (publisher: DTLS {publisher.Client.DtlsRole}, {publisher.Client.SrtpProfile}; slots per subscriber: {peers[1].Slots.Count}); 3 s warm-up");
            await Task.Delay(TimeSpan.FromSeconds(3));
            ClientTrack[] sending = [publisher.SendAudio!, publisher.SendVideo!];
            var start = FanoutSnapshot.Take(nodePid, sending, receivers);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var end = FanoutSnapshot.Take(nodePid, sending, receivers);
            pump.Stop();
            return new FanoutFigures("ours", subscribers, start, end);
        }
        catch
        {
            Console.Error.WriteLine(system.Logs());
            throw;
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }
}
