using System.Diagnostics;
using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Switch time: a replica attendee (joined to the eu-west-1 replica, receiving the primary's presenter) starts speaking
/// in the us-east-1 primary. <b>promote</b>: <c>promote</c> with a primary token on its connection, sendonly m-lines,
/// one re-offer. <b>rejoin</b> (what a platform would otherwise do): leave the replica, open a new WebSocket to the
/// primary's node with the primary token, a new <see cref="WebRtcClient"/> (new ICE and DTLS), offer, connect. Both
/// are timed the same way, from the decision (before the first frame) to the first of its stamped audio packets (sent
/// every 2 ms from the moment it may send) arriving at a subscriber of the primary. Attempts alternate; each starts
/// from a fresh, connected replica attendee and a new primary attendee created beforehand.
/// <code>dotnet run -c Release --project tests/Webinar.Benchmarks -- switch-time --attempts 10</code>
/// </summary>
internal static class SwitchTimeRun
{
    public const string Verb = "switch-time";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--attempts"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return 2;
        }

        int attempts = options.Int("--attempts", 10, 1, 50);
        Console.WriteLine($"loadavg before: {ProcessCpu.LoadAverage()}");
        await using var system = await BenchmarkSystem.StartAsync("us-east-1", "eu-west-1");
        var primary = await system.Api.CreateMeetingAsync("us-east-1");
        var replica = await system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await system.Api.CreateAttendeeAsync(primary.MeetingId, "presenter");
        var viewer = await system.Api.CreateAttendeeAsync(primary.MeetingId, "primary-viewer");
        var clientOptions = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };
        var peers = new List<SfuPeer>();
        var promoteTimes = new List<long>();
        var rejoinTimes = new List<long>();
        try
        {
            var publisher = await SfuPeer.JoinAsync(system.SignalingUrl(primary), presenter.JoinToken, clientOptions, publish: true);
            peers.Add(publisher);
            await publisher.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
            using var presenterMedia = new MediaPump(publisher.Client, publisher.SendAudio, publisher.SendVideo);
            presenterMedia.Start();
            var subscriber = await SfuPeer.JoinAsync(system.SignalingUrl(primary), viewer.JoinToken, clientOptions, publish: false);
            peers.Add(subscriber);
            var arrivals = new LatencyRecorder();
            arrivals.Attach(subscriber.Client);
            await subscriber.Client.ConnectedAsync(TimeSpan.FromSeconds(15));

            for (int attempt = 1; attempt <= attempts * 2; attempt++)
            {
                bool promote = attempt % 2 == 1;
                var audience = await system.Api.CreateAttendeeAsync(replica.MeetingId, "audience-" + attempt.ToString(CultureInfo.InvariantCulture));
                var speaker = await system.Api.CreateAttendeeAsync(primary.MeetingId, "speaker-" + attempt.ToString(CultureInfo.InvariantCulture), "SendReceive");
                var replicaPeer = await SfuPeer.JoinAsync(system.SignalingUrl(replica), audience.JoinToken, clientOptions, publish: false);
                await replicaPeer.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
                await Task.Delay(TimeSpan.FromSeconds(1));

                long decided = Stopwatch.GetTimestamp();
                long signalled; // promoted reply (promote) or joined + answer applied (rejoin)
                long canSend; // answer applied (promote) or DTLS done (rejoin)
                SfuPeer speaking;
                StampedPump pump;
                if (promote)
                {
                    signalled = await replicaPeer.PromoteAsync(speaker.JoinToken);
                    canSend = Stopwatch.GetTimestamp();
                    speaking = replicaPeer;
                    pump = new StampedPump(speaking.Client, speaking.SendAudio!, video: null, TimeSpan.FromMilliseconds(2), 0, tag: attempt);
                    pump.Start();
                }
                else
                {
                    await replicaPeer.DisposeAsync();
                    speaking = await SfuPeer.JoinAsync(system.SignalingUrl(primary), speaker.JoinToken, clientOptions, publish: true);
                    signalled = Stopwatch.GetTimestamp();
                    pump = new StampedPump(speaking.Client, speaking.SendAudio!, video: null, TimeSpan.FromMilliseconds(2), 0, tag: attempt);
                    pump.Start();
                    await speaking.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
                    canSend = Stopwatch.GetTimestamp();
                }

                long? arrived = await arrivals.FirstArrivalAsync(attempt, TimeSpan.FromSeconds(20));
                pump.Dispose();
                string method = promote ? "promote" : "rejoin";
                if (arrived is { } at)
                {
                    (promote ? promoteTimes : rejoinTimes).Add(at - decided);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"attempt {attempt,2} {method,-7} {Ms(at - decided),7:0.0} ms  ({(promote ? "promoted" : "joined+answer")} {Ms(signalled - decided):0.0}, {(promote ? "answer" : "DTLS done")} {Ms(canSend - decided):0.0}, first packet at primary subscriber {Ms(at - decided):0.0})"));
                }
                else
                {
                    Console.WriteLine($"attempt {attempt,2} {method,-7} no packet at the primary subscriber within 20 s");
                }

                if (promote)
                {
                    await replicaPeer.DemoteAsync();
                }

                await speaking.DisposeAsync();
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            presenterMedia.Stop();
            Report(promoteTimes, rejoinTimes, subscriber.FailedRenegotiations);
            return 0;
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

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static void Report(List<long> promote, List<long> rejoin, int failedRenegotiations)
    {
        var text = CultureInfo.InvariantCulture;
        double promoteMedian = Percentiles.MedianMillis(promote);
        double rejoinMedian = Percentiles.MedianMillis(rejoin);
        Console.WriteLine();
        Console.WriteLine(string.Create(text, $"loadavg {ProcessCpu.LoadAverage()}; failed renegotiations at the primary subscriber: {failedRenegotiations}"));
        Console.WriteLine("| Switch | attempts | median (ms) | min (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(text, $"| promote on the replica connection | {promote.Count} | {promoteMedian:0.0} | {Percentiles.Millis(promote, 0):0.0} | {Percentiles.Millis(promote, 100):0.0} |"));
        Console.WriteLine(string.Create(text, $"| leave the replica, join the primary afresh | {rejoin.Count} | {rejoinMedian:0.0} | {Percentiles.Millis(rejoin, 0):0.0} | {Percentiles.Millis(rejoin, 100):0.0} |"));
        Console.WriteLine(string.Create(text, $"ratio of medians promote/rejoin: {promoteMedian / rejoinMedian:0.00} (rejoin takes {rejoinMedian / promoteMedian:0.0}x as long)"));
    }
}
