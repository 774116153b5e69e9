using System.Globalization;
using Webinar.Benchmarks.Sfu;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Media;

/// <summary>
/// The forwarding path of <see cref="ForwardingBenchmarks"/> timed by the thread's own CPU clock instead of the wall
/// clock, so a shared machine's other work inflates it less: for each send batch size (1 = one sendto per consumer,
/// 64 = sendmmsg), rounds of packets fanned out to N consumers, interleaved so both sizes run in the same conditions;
/// prints the median CPU time per forwarded packet.
/// <code>dotnet tests/Webinar.Benchmarks/bin/Release/net10.0/Webinar.Benchmarks.dll forward-cpu --consumers 249 --rounds 7</code>
/// </summary>
internal static class ForwardCpuRun
{
    public const string Verb = "forward-cpu";

    public static Task<int> RunAsync(string[] args)
    {
        if (!RunArguments.TryParse(args, ["--consumers", "--rounds", "--packets"], out var options, out string error))
        {
            Console.Error.WriteLine(error);
            return Task.FromResult(2);
        }

        int consumers = options.Int("--consumers", 249, 1, 1000);
        int rounds = options.Int("--rounds", 7, 1, 100);
        int packets = options.Int("--packets", 400, 10, 100_000);
        int[] batches = [1, 64];
        var benchmarks = batches.Select(b => new ForwardingBenchmarks { Consumers = consumers, SendBatch = b }).ToArray();
        foreach (var benchmark in benchmarks)
        {
            benchmark.Setup();
        }

        var perPacket = batches.Select(_ => new List<double>()).ToArray();
        var text = CultureInfo.InvariantCulture;
        Console.WriteLine($"loadavg before: {LoadRun.ProcessCpu.LoadAverage()}; {consumers} consumers, {rounds} rounds of {packets} packets per batch size");
        for (int round = 0; round < rounds; round++)
        {
            for (int b = 0; b < batches.Length; b++)
            {
                long start = ThreadCpu.Nanoseconds();
                for (int i = 0; i < packets; i++)
                {
                    benchmarks[b].Forward();
                }

                long forward = ThreadCpu.Nanoseconds() - start;
                start = ThreadCpu.Nanoseconds();
                for (int i = 0; i < packets; i++)
                {
                    benchmarks[b].PublisherProtect();
                }

                long publisher = ThreadCpu.Nanoseconds() - start;
                perPacket[b].Add((forward - publisher) / 1000.0 / packets / consumers);
            }
        }

        foreach (var benchmark in benchmarks)
        {
            benchmark.Cleanup();
        }

        for (int b = 0; b < batches.Length; b++)
        {
            var sorted = perPacket[b].Order().ToArray();
            Console.WriteLine(string.Create(text, $"send batch {batches[b],3}: {sorted[sorted.Length / 2]:0.00} µs CPU per forwarded packet (median of {rounds}; min {sorted[0]:0.00}, max {sorted[^1]:0.00}) -> {1e6 / sorted[sorted.Length / 2]:0} forwarded packets per CPU-second"));
        }

        Console.WriteLine($"loadavg after: {LoadRun.ProcessCpu.LoadAverage()}");
        return Task.FromResult(0);
    }
}
