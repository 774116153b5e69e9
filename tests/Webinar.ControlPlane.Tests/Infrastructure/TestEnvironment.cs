using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Webinar.ControlPlane.Tests.Infrastructure;

/// <summary>Where the shared PostgreSQL and RabbitMQ are (ENV.md), and the infra/rabbitmq helper.</summary>
internal static class TestEnvironment
{
    public static readonly string RepoRoot = FindRepoRoot();

    public static int PostgresPort => IntVariable("WEBINAR_PG_PORT", 55432);

    public static int RabbitMqPort => IntVariable("WEBINAR_RABBITMQ_PORT", 55672);

    public static string AdminConnectionString => $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database=postgres;Pooling=false";

    public static string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database={database};Maximum Pool Size=40;Timeout=30";

    /// <summary>Runs infra/rabbitmq with the given AMQP port (and its distribution port) and arguments.</summary>
    public static async Task RabbitAsync(int amqpPort, params string[] args) => await RabbitOutputAsync(amqpPort, args);

    /// <summary>Runs infra/rabbitmq like <see cref="RabbitAsync"/> and returns what it printed.</summary>
    public static async Task<string> RabbitOutputAsync(int amqpPort, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(RepoRoot, "infra", "rabbitmq"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["WEBINAR_RABBITMQ_PORT"] = amqpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (amqpPort != RabbitMqPort || Environment.GetEnvironmentVariable("WEBINAR_RABBITMQ_DIST_PORT") is null)
        {
            psi.Environment["WEBINAR_RABBITMQ_DIST_PORT"] = (amqpPort + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"infra/rabbitmq {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout} {await stderr}");
        }

        return await stdout;
    }

    /// <summary>Two consecutive free TCP ports (AMQP and Erlang distribution) for a private broker.</summary>
    public static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                return port;
            }
            catch (SocketException)
            {
                // Try another pair.
            }
        }

        throw new InvalidOperationException("No free port pair found.");
    }

    private static int IntVariable(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Webinar.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Webinar.sln not found above " + AppContext.BaseDirectory);
    }
}
