using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Webinar.TestSupport.Systems;

/// <summary>A service started from its built DLL (<c>dotnet X.dll</c>), its output kept for the test log.</summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private int _pid;

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The operating system's process id (for /proc/&lt;pid&gt;/stat in load runs).</summary>
    public int Id => _pid;

    /// <param name="networkNamespace">Runs the service inside this network namespace (<c>ip netns exec</c>, which execs it: the pid stays the service's).</param>
    public static ServiceProcess Start(string name, string project, IReadOnlyDictionary<string, string> environment, string? networkNamespace = null, params string[] args)
    {
        var start = new ProcessStartInfo(networkNamespace is null ? "dotnet" : "ip")
        {
            WorkingDirectory = Path.Combine(RepositoryRoot.Path, "src", project),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (networkNamespace is not null)
        {
            start.ArgumentList.Add("netns");
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(networkNamespace);
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(RepositoryTools.ServiceDll(project));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["Logging__Console__FormatterName"] = "simple";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        service._pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public string Log()
    {
        var text = new StringBuilder();
        text.AppendLine($"----- {Name} (pid {_pid}{(_process.HasExited ? $", exited {_process.ExitCode}" : string.Empty)}) -----");
        foreach (var line in _log)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    /// <summary>Stops the service: SIGTERM (a clean shutdown) or, with <paramref name="crash"/>, SIGKILL (a crash); waits for the exit.</summary>
    public async Task StopAsync(bool crash = false)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = Kill(_pid, crash ? SigKill : SigTerm);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            _log.Enqueue(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
