// The assembly is named rather than typeof(Program): the control plane's Program is visible here too.
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(System.Reflection.Assembly.GetExecutingAssembly()).Run(args);
