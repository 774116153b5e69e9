using Webinar.Contracts.Nodes;

namespace Webinar.ControlPlane.Hosting;

internal sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Kestrel listens on <see cref="ListenAddress"/> at this port.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>127.0.0.1 by default; a container sets 0.0.0.0.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Larger request bodies are refused with 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

internal sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>A full connection string (ConnectionStrings:Webinar); when set, the other settings are ignored.</summary>
    public string? ConnectionString { get; set; }

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 25432;

    public string Database { get; set; } = "webinar";

    public string Username { get; set; } = "postgres";

    public string? Password { get; set; }

    public int MaxPoolSize { get; set; } = 50;
}

internal sealed class ApiKeyOptions
{
    public const string Section = "ApiKeys";

    /// <summary>The development key (WEBINAR_API_KEY).</summary>
    public string? DevelopmentKey { get; set; }

    /// <summary>Further keys of the same platform, ApiKeys:Keys:0, ApiKeys:Keys:1, ...</summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>The platform these keys belong to (other platforms are configured under <c>Platforms</c>).</summary>
    public string DevelopmentPlatformId { get; set; } = "default";
}

internal sealed class MeetingOptions
{
    public const string Section = "Meetings";

    /// <summary>Space-separated media regions meetings may be created in.</summary>
    public string Regions { get; set; } = "us-east-1 eu-west-1 ap-southeast-1";

    /// <summary>How many replicas one primary may have (1–100).</summary>
    public int ReplicasPerPrimary { get; set; } = 4;

    public IReadOnlyList<string> RegionList() =>
        Regions.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class JoinTokenOptions
{
    public const string Section = "JoinTokens";

    /// <summary>PKCS#8 PEM P-256 private key; without it an ephemeral key is generated.</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>PEM with PUBLIC KEY blocks also published (previous keys during a rotation).</summary>
    public string? PublicKeyFile { get; set; }

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);
}

internal sealed class IdleOptions
{
    public const string Section = "Idle";

    /// <summary>A primary with no live connection in it or its replicas for this long is deleted.</summary>
    public int TimeoutSeconds { get; set; } = 300;

    /// <summary>How often the reaper runs; 0 means a quarter of the timeout, between 1 and 30 seconds.</summary>
    public int SweepIntervalSeconds { get; set; }

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public TimeSpan SweepInterval => SweepIntervalSeconds > 0
        ? TimeSpan.FromSeconds(SweepIntervalSeconds)
        : TimeSpan.FromSeconds(Math.Clamp(TimeoutSeconds / 4.0, 1, 30));
}

internal sealed class NodeOptions
{
    public const string Section = "Nodes";

    public TimeSpan HeartbeatInterval { get; set; } = NodeHeartbeatDefaults.Interval;

    public int MissedBeforeUnhealthy { get; set; } = NodeHeartbeatDefaults.MissedBeforeUnhealthy;

    /// <summary>A node whose last heartbeat is older than this is unhealthy.</summary>
    public TimeSpan UnhealthyAfter => HeartbeatInterval * MissedBeforeUnhealthy;

    /// <summary>
    /// A node silent this long while other nodes' heartbeats still arrive is gone: its connections stop counting for
    /// idle deletion. A silence shared by every node (a broker outage) never makes a node gone.
    /// </summary>
    public TimeSpan GoneAfter { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class OutboxOptions
{
    public const string Section = "Outbox";

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public int BatchSize { get; set; } = 100;

    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>The development platform's webhook HMAC key (X-Webinar-Signature); without it a random one is logged at start.</summary>
    public string? SigningSecret { get; set; }

    public int MaxAttempts { get; set; } = 8;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many POSTs one instance has in flight at once.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>
    /// How many of those may go to one receiver (scheme, host and port) at once, so a receiver that hangs holds at
    /// most this many slots and every other receiver keeps the rest.
    /// </summary>
    public int MaxConcurrentPerReceiver { get; set; } = 4;

    /// <summary>
    /// Space-separated networks (CIDR, e.g. <c>10.20.0.0/16 127.0.0.1/32</c>) webhooks may reach although they are
    /// loopback, private or link-local; empty by default, so only public addresses are reachable.
    /// </summary>
    public string AllowedNetworks { get; set; } = "";

    public System.Net.IPNetwork[] AllowedNetworkList() =>
        AllowedNetworks.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => System.Net.IPNetwork.Parse(n)).ToArray();
}

internal sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Sent (or set-aside) outbox rows are deleted this long after they were written.</summary>
    public TimeSpan Outbox { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Delivered or failed webhook deliveries are deleted this long after they were written.</summary>
    public TimeSpan WebhookDeliveries { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Tombstones of connections whose AttendeeLeft came before their AttendeeJoined (far longer than any queue delay).</summary>
    public TimeSpan EndedConnections { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the retention job runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);
}
