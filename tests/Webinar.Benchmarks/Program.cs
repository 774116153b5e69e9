// `janus-fanout` is a console load run against a private Janus (see Janus/JanusFanoutRun.cs); anything else goes to
// BenchmarkDotNet. The assembly is named rather than typeof(Program): the control plane's Program is visible here too.
if (args.Length > 0 && args[0] == Webinar.Benchmarks.Janus.JanusFanoutRun.Verb)
{
    return await Webinar.Benchmarks.Janus.JanusFanoutRun.RunAsync(args[1..]);
}

BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(System.Reflection.Assembly.GetExecutingAssembly()).Run(args);
return 0;
