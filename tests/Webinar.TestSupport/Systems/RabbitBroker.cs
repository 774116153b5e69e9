using System.Globalization;

namespace Webinar.TestSupport.Systems;

/// <summary>Where the services find RabbitMQ, as the WEBINAR_RABBITMQ_* (and RabbitMq__*) variables they read.</summary>
public abstract class RabbitBroker : IAsyncDisposable
{
    public abstract string Host { get; }

    public abstract int Port { get; }

    public abstract string VirtualHost { get; }

    public virtual IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["WEBINAR_RABBITMQ_HOST"] = Host,
        ["WEBINAR_RABBITMQ_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
        ["WEBINAR_RABBITMQ_VHOST"] = VirtualHost,
    };

    public abstract Task StartAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// The shared broker (started by infra/test), with a virtual host of this fixture's own, deleted at the end. The control
/// plane and the nodes log in as users of their own with only what their role needs (infra/rabbitmq grant), as infra/up
/// sets them up.
/// </summary>
public sealed class SharedRabbitBroker(string virtualHost) : RabbitBroker
{
    private readonly string _password = Guid.NewGuid().ToString("N");

    private string ControlPlaneUser => "webinar-control-plane-" + virtualHost;

    private string SfuUser => "webinar-sfu-" + virtualHost;

    public override string Host => "127.0.0.1";

    public override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>(base.Environment)
    {
        ["WEBINAR_CONTROL_PLANE_RABBITMQ_USER"] = ControlPlaneUser,
        ["WEBINAR_CONTROL_PLANE_RABBITMQ_PASSWORD"] = _password,
        ["WEBINAR_SFU_RABBITMQ_USER"] = SfuUser,
        ["WEBINAR_SFU_RABBITMQ_PASSWORD"] = _password,
    };

    public override int Port => WebinarSystemFixture.RabbitPort;

    public override string VirtualHost => virtualHost;

    public override async Task StartAsync()
    {
        await RepositoryTools.RabbitCtlAsync("add_vhost", VirtualHost);
        await RepositoryTools.RabbitCtlAsync("set_permissions", "-p", VirtualHost, "guest", ".*", ".*", ".*");
        await RepositoryTools.RabbitAsync("grant", "control-plane", ControlPlaneUser, _password, VirtualHost);
        await RepositoryTools.RabbitAsync("grant", "sfu", SfuUser, _password, VirtualHost);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var user in new[] { ControlPlaneUser, SfuUser })
        {
            try
            {
                await RepositoryTools.RabbitCtlAsync("delete_user", user);
            }
            catch (InvalidOperationException)
            {
                // Never created.
            }
        }

        try
        {
            await RepositoryTools.RabbitCtlAsync("delete_vhost", VirtualHost);
        }
        catch (InvalidOperationException)
        {
            // Never created.
        }
    }
}

/// <summary>
/// A broker of this fixture's own (<c>infra/rabbitmq start|stop</c> on free ports, data in a temporary directory), so
/// a test can stop and restart it without disturbing anyone else. Optionally bound to an address inside a network
/// namespace (then it runs in that namespace and the services log in as a user of its own: guest is loopback-only).
/// </summary>
public sealed class PrivateRabbitBroker : RabbitBroker
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("webinar-e2e-rabbit-").FullName;
    private readonly int _distPort = WebinarSystemFixture.FreeTcpPort();
    private readonly string _bindAddress;
    private readonly string? _networkNamespace;
    private readonly string _password = Guid.NewGuid().ToString("N");

    public PrivateRabbitBroker(string bindAddress = "127.0.0.1", string? networkNamespace = null)
    {
        _bindAddress = bindAddress;
        _networkNamespace = networkNamespace;
        Port = WebinarSystemFixture.FreeTcpPort();
    }

    public override string Host => _bindAddress;

    public override int Port { get; }

    public override string VirtualHost => "/";

    private bool OwnUser => _networkNamespace is not null;

    public override IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>(base.Environment);
            if (OwnUser)
            {
                environment["RabbitMq__Username"] = "webinar-e2e";
                environment["RabbitMq__Password"] = _password;
            }

            return environment;
        }
    }

    public override async Task StartAsync()
    {
        await RabbitAsync("start");
        if (OwnUser)
        {
            // The AMQP port opens before the broker finishes booting; users can be added only after.
            await RabbitAsync("ctl", "await_startup");
            await RabbitAsync("ctl", "add_user", "webinar-e2e", _password);
            await RabbitAsync("ctl", "set_permissions", "-p", "/", "webinar-e2e", ".*", ".*", ".*");
        }
    }

    /// <summary>Stops the broker (every connection to it drops); <see cref="StartAsync"/> brings it back with its data.</summary>
    public Task StopAsync() => RabbitAsync("stop");

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private Task<string> RabbitAsync(params string[] args)
    {
        var script = Path.Combine(RepositoryRoot.Path, "infra", "rabbitmq");
        var environment = new Dictionary<string, string>
        {
            ["WEBINAR_DATA_DIR"] = _dataDir,
            ["WEBINAR_RABBITMQ_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_RABBITMQ_DIST_PORT"] = _distPort.ToString(CultureInfo.InvariantCulture),
            ["WEBINAR_EPMD_PORT"] = RepositoryTools.EpmdPort,
            ["WEBINAR_RABBITMQ_BIND_ADDRESS"] = _bindAddress,
        };
        return _networkNamespace is null
            ? RepositoryTools.RunAsync(script, args, environment)
            : RepositoryTools.RunAsync("ip", ["netns", "exec", _networkNamespace, script, .. args], environment);
    }
}
