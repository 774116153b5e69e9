// Console load runs: `janus-fanout` (Janus/JanusFanoutRun.cs), `sfu-fanout`, `relay-latency`, `relay-loss`, `switch-time`,
// `relay-cost`, `connect-time`, `archive-cost`, `compose-cost`, `promote-distance`, `promote-frame` (Sfu/*Run.cs) against our nodes,
// `dtls-handshakes` (Dtls/DtlsHandshakeRun.cs), `forward-cpu` (Media/ForwardCpuRun.cs), `connector-cost` (Connector/ConnectorCostRun.cs); anything else goes to
// BenchmarkDotNet. The assembly is named rather than typeof(Program): the control plane's Program is visible here too.
switch (args.Length > 0 ? args[0] : "")
{
    case Webinar.Benchmarks.Janus.JanusFanoutRun.Verb:
        return await Webinar.Benchmarks.Janus.JanusFanoutRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Media.ForwardCpuRun.Verb:
        return await Webinar.Benchmarks.Media.ForwardCpuRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.SfuFanoutRun.Verb:
        return await Webinar.Benchmarks.Sfu.SfuFanoutRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.RelayLatencyRun.Verb:
        return await Webinar.Benchmarks.Sfu.RelayLatencyRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.RelayLossRun.Verb:
        return await Webinar.Benchmarks.Sfu.RelayLossRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.SwitchTimeRun.Verb:
        return await Webinar.Benchmarks.Sfu.SwitchTimeRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Dtls.DtlsHandshakeRun.Verb:
        return await Webinar.Benchmarks.Dtls.DtlsHandshakeRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.RelayCostRun.Verb:
        return await Webinar.Benchmarks.Sfu.RelayCostRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.PromotionDistanceRun.Verb:
        return await Webinar.Benchmarks.Sfu.PromotionDistanceRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.PromotionFrameRun.Verb:
        return await Webinar.Benchmarks.Sfu.PromotionFrameRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.ConnectTimeRun.Verb:
        return await Webinar.Benchmarks.Sfu.ConnectTimeRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Connector.ConnectorCostRun.Verb:
        return await Webinar.Benchmarks.Connector.ConnectorCostRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.ArchiveCostRun.Verb:
        return await Webinar.Benchmarks.Sfu.ArchiveCostRun.RunAsync(args[1..]);
    case Webinar.Benchmarks.Sfu.ComposeCostRun.Verb:
        return await Webinar.Benchmarks.Sfu.ComposeCostRun.RunAsync(args[1..]);
}

BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(System.Reflection.Assembly.GetExecutingAssembly()).Run(args);
return 0;
