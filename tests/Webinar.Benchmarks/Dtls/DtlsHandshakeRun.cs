using System.Diagnostics;
using System.Globalization;
using Webinar.Benchmarks.LoadRun;
using Webinar.Media.Dtls;

namespace Webinar.Benchmarks.Dtls;

/// <summary>
/// <c>dtls-handshakes [--count N] [--concurrency C[,C2...]] [--warmup W] [--engine openssl|bouncycastle|both] [--rtt-ms R]</c>:
/// N full DTLS-SRTP handshakes (our BouncyCastle client against our server, in memory, C at a time), for each server
/// engine in the same run. The server side runs on its own <see cref="DtlsHandshakeWorkers"/> (BouncyCastle: C blocking
/// threads, or with a round trip the node's default cap; OpenSSL: one step worker per core), whose threads read their
/// own CPU clocks, so "server handshakes/s per core" is N over the server's CPU seconds alone; the client's CPU is the
/// rest of the process. <c>--rtt-ms</c> delays every datagram by half of R each way, as a network would: that is where
/// a blocking server holds its threads.
/// </summary>
internal static class DtlsHandshakeRun
{
    public const string Verb = "dtls-handshakes";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 400;
        int[] concurrencies = [16];
        var warmup = 200;
        DtlsEngine[] engines = [DtlsEngine.OpenSsl, DtlsEngine.BouncyCastle];
        var rtt = TimeSpan.Zero;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--count":
                    count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--warmup":
                    warmup = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrencies = args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--rtt-ms":
                    rtt = TimeSpan.FromMilliseconds(int.Parse(args[i + 1], CultureInfo.InvariantCulture));
                    break;
                case "--engine":
                    engines = args[i + 1] switch
                    {
                        "openssl" => [DtlsEngine.OpenSsl],
                        "bouncycastle" => [DtlsEngine.BouncyCastle],
                        _ => [DtlsEngine.OpenSsl, DtlsEngine.BouncyCastle],
                    };
                    break;
            }
        }

        var serverCertificate = DtlsCertificate.Generate();
        var clientCertificate = DtlsCertificate.Generate();
        var failed = 0;
        foreach (var concurrency in concurrencies)
        {
            foreach (var engine in engines)
            {
                // Without a round trip a blocking handshake never waits long, so C threads is generous; with one, the
                // BouncyCastle server gets the node's own cap (DtlsHandshakeWorkers.Server), as in a real join storm.
                var bouncyCastleThreads = rtt > TimeSpan.Zero ? DtlsHandshakeWorkers.Server.MaxThreads : concurrency;
                var workers = new DtlsHandshakeWorkers(engine == DtlsEngine.OpenSsl ? Environment.ProcessorCount : bouncyCastleThreads);
                var options = new DtlsTransportOptions
                {
                    ServerEngine = engine,
                    ServerWorkers = workers,
                    OpenSslWorkers = workers,
                    HandshakeTimeout = TimeSpan.FromSeconds(60),
                };

                // Warm up outside the measured window: BouncyCastle's precomputed tables, and enough calls for tiered
                // JIT to reach optimized code (a node's steady state; the first handshakes of a fresh process cost more).
                var coldCpuBefore = workers.CpuTime;
                await RunBatchAsync(serverCertificate, clientCertificate, options, warmup, concurrency, rtt);
                var coldCpu = warmup > 0 ? (workers.CpuTime - coldCpuBefore).TotalMilliseconds / warmup : 0;
                await Task.Delay(500);
                var serverCpuBefore = workers.CpuTime;
                var processCpuBefore = ProcessCpu.Read(Environment.ProcessId);
                var load = ProcessCpu.LoadAverage();
                var clock = Stopwatch.StartNew();
                var (failures, meanHandshake) = await RunBatchAsync(serverCertificate, clientCertificate, options, count, concurrency, rtt);
                var elapsed = clock.Elapsed;
                var serverCpu = workers.CpuTime - serverCpuBefore;
                var processCpu = ProcessCpu.Read(Environment.ProcessId) - processCpuBefore;
                var clientCpu = processCpu - serverCpu;
                failed += failures;
                var stack = engine == DtlsEngine.OpenSsl ? "OpenSSL 3 server (memory BIOs)" : "BouncyCastle.Cryptography 2.7.0 server";

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                    DTLS-SRTP handshakes, {stack} <- BouncyCastle client, {count} at {concurrency} concurrent, RTT {rtt.TotalMilliseconds:0} ms, {failures} failed, load {load}
                      wall            {elapsed.TotalSeconds:0.00} s ({count / elapsed.TotalSeconds:0} handshakes/s on this machine), {meanHandshake.TotalMilliseconds:0} ms per handshake on average
                      server CPU      {serverCpu.TotalMilliseconds / count:0.000} ms per handshake -> {count / serverCpu.TotalSeconds:0} server handshakes/s per core
                      client CPU      {clientCpu.TotalMilliseconds / count:0.000} ms per handshake (rest of the process, GC included)
                      server threads  {workers.Threads} of {workers.MaxThreads}
                      warm-up         {warmup} handshakes at {coldCpu:0.000} ms server CPU each (JIT tiers climbing)
                    """));
            }
        }

        return failed == 0 ? 0 : 1;
    }

    private static async Task<(int Failures, TimeSpan MeanHandshake)> RunBatchAsync(
        DtlsCertificate serverCertificate, DtlsCertificate clientCertificate, DtlsTransportOptions options, int count, int concurrency, TimeSpan rtt)
    {
        var failures = 0;
        long handshakeTicks = 0;
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = new Task[count];
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync();
            tasks[i] = Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    if (!await OneAsync(serverCertificate, clientCertificate, options, rtt / 2))
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                finally
                {
                    Interlocked.Add(ref handshakeTicks, Stopwatch.GetElapsedTime(started).Ticks);
                    gate.Release();
                }
            });
        }

        await Task.WhenAll(tasks);
        return (failures, count > 0 ? TimeSpan.FromTicks(handshakeTicks / count) : TimeSpan.Zero);
    }

    private static async Task<bool> OneAsync(DtlsCertificate serverCertificate, DtlsCertificate clientCertificate, DtlsTransportOptions options, TimeSpan delay)
    {
        var toServer = new Forwarder(delay);
        var toClient = new Forwarder(delay);
        using var server = new DtlsTransport(DtlsRole.Server, serverCertificate, clientCertificate.Fingerprint, toClient, options);
        using var client = new DtlsTransport(DtlsRole.Client, clientCertificate, serverCertificate.Fingerprint, toServer, options);
        toServer.Target = server;
        toClient.Target = client;
        try
        {
            var serverKeys = server.HandshakeAsync();
            var clientKeys = client.HandshakeAsync();
            var keys = await Task.WhenAll(serverKeys, clientKeys);
            return keys[0].LocalMasterKey.AsSpan().SequenceEqual(keys[1].RemoteMasterKey);
        }
        catch (DtlsHandshakeException)
        {
            return false;
        }
    }

    /// <summary>Hands datagrams to the other side, after <paramref name="delay"/> when one is given (a one-way path delay).</summary>
    private sealed class Forwarder(TimeSpan delay) : IDatagramSender
    {
        public DtlsTransport? Target { get; set; }

        public void Send(ReadOnlySpan<byte> datagram)
        {
            if (delay <= TimeSpan.Zero)
            {
                Target?.OnDatagram(datagram);
                return;
            }

            var copy = datagram.ToArray();
            _ = Task.Delay(delay).ContinueWith(static (_, state) =>
            {
                var (self, bytes) = ((Forwarder, byte[]))state!;
                self.Target?.OnDatagram(bytes);
            }, (this, copy), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
