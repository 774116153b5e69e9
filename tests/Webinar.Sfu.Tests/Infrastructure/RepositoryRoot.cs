using System.Diagnostics;

namespace Webinar.Sfu.Tests.Infrastructure;

internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// <summary>The shared broker's epmd port: WEBINAR_EPMD_PORT, else the shared development servers' 54369.</summary>
    public static string EpmdPort => Environment.GetEnvironmentVariable("WEBINAR_EPMD_PORT") is { Length: > 0 } p ? p : "54369";

    /// <summary>Runs <c>infra/rabbitmq ctl ARGS</c> against the shared broker.</summary>
    public static async Task RabbitCtlAsync(params string[] args) => await RabbitCtlOutputAsync(args);

    /// <summary>Runs <c>infra/rabbitmq ctl</c> against the shared broker and returns what it printed.</summary>
    public static async Task<string> RabbitCtlOutputAsync(params string[] args)
    {
        var start = new ProcessStartInfo(System.IO.Path.Combine(Path, "infra", "rabbitmq"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The shared broker's ports: from the environment (infra/test exports them), else the shared development ones.
        start.Environment["WEBINAR_RABBITMQ_PORT"] = SfuNodeFixture.RabbitPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["WEBINAR_EPMD_PORT"] = EpmdPort;
        start.ArgumentList.Add("ctl");
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"infra/rabbitmq ctl {string.Join(' ', args)} failed: {await stdout} {await stderr}");
        }

        return await stdout;
    }

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Webinar.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Webinar.sln not found above " + AppContext.BaseDirectory);
    }
}
