using System.Diagnostics;

namespace Webinar.TestSupport.Systems;

/// <summary>Runs what the repository holds: the built services, infra scripts, any command (paths from <see cref="RepositoryRoot"/>).</summary>
internal static class RepositoryTools
{
    public static string Configuration => Environment.GetEnvironmentVariable("WEBINAR_CONFIGURATION") is { Length: > 0 } c ? c : "Release";

    /// <summary>The built service DLL, e.g. src/Webinar.Sfu/bin/Release/net10.0/Webinar.Sfu.dll.</summary>
    public static string ServiceDll(string project)
    {
        var dll = System.IO.Path.Combine(RepositoryRoot.Path, "src", project, "bin", Configuration, "net10.0", project + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} is missing: build the solution with -c {Configuration} (or set WEBINAR_CONFIGURATION).", dll);
    }

    /// <summary>The shared broker's epmd port: WEBINAR_EPMD_PORT, else the shared development servers' 54369.</summary>
    public static string EpmdPort => Environment.GetEnvironmentVariable("WEBINAR_EPMD_PORT") is { Length: > 0 } p ? p : "54369";

    /// <summary>Runs <c>infra/rabbitmq ctl ARGS</c> against the shared broker.</summary>
    public static Task RabbitCtlAsync(params string[] args) =>
        RunAsync(System.IO.Path.Combine(RepositoryRoot.Path, "infra", "rabbitmq"), ["ctl", .. args], new Dictionary<string, string>
        {
            ["WEBINAR_RABBITMQ_PORT"] = WebinarSystemFixture.RabbitPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WEBINAR_EPMD_PORT"] = EpmdPort,
        });

    /// <summary>Runs <c>infra/rabbitmq ARGS</c> (e.g. <c>grant</c>) against the shared broker.</summary>
    public static Task RabbitAsync(params string[] args) =>
        RunAsync(System.IO.Path.Combine(RepositoryRoot.Path, "infra", "rabbitmq"), args, null);

    /// <summary>Runs a command to completion; throws with its output when it fails. Returns its standard output.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await stdout} {await stderr}");
        }

        return await stdout;
    }
}
