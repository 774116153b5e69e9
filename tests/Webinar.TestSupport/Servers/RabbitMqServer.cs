using System.Globalization;
using Testcontainers.RabbitMq;

namespace Webinar.TestSupport.Servers;

/// <summary>A RabbitMQ container of one test collection (see <see cref="TestServers"/>).</summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    public const string User = "guest";
    public const string Password = "guest";

    private readonly RabbitMqContainer _container;

    internal RabbitMqServer(RabbitMqContainer container, int port)
    {
        _container = container;
        Port = port;
    }

    public string Host => "127.0.0.1";

    /// <summary>The AMQP port on <see cref="Host"/>, the same after a stop and start.</summary>
    public int Port { get; }

    public string PortText => Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts the container (again) and waits until the broker accepts connections.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _container.StartAsync(cancellationToken);

    /// <summary>Stops the container: the broker is gone, its port closed, until <see cref="StartAsync"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _container.StopAsync(cancellationToken);

    /// <summary>Runs rabbitmqctl in the container and returns what it printed; a failure throws with its output.</summary>
    public async Task<string> CtlAsync(params string[] args)
    {
        var result = await _container.ExecAsync(["rabbitmqctl", .. args]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stdout} {result.Stderr}");
        }

        return result.Stdout;
    }

    public ValueTask DisposeAsync() => _container.DisposeAsync();
}
