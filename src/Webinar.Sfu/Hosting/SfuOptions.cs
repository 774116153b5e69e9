using Webinar.Contracts.Tls;

namespace Webinar.Sfu.Hosting;

/// <summary>The node's own settings, bound from the <c>Sfu</c> configuration section.</summary>
internal sealed class SfuOptions
{
    public const string Section = "Sfu";

    /// <summary>Media region this node serves (e.g. <c>us-east-1</c>).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Node id as placed by the control plane; defaults to <c>{Region}-a</c>.</summary>
    public string? NodeId { get; set; }

    /// <summary>Signalling WebSocket port, bound on <see cref="ListenAddress"/>.</summary>
    public int WsPort { get; set; } = 8181;

    /// <summary>
    /// Address Kestrel binds the signalling WebSocket to: 127.0.0.1 by default; <c>0.0.0.0</c> in a container, or the
    /// node's own address when it runs in a network namespace of its own.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>UDP media port (used by the media plane).</summary>
    public int UdpPort { get; set; } = 40000;

    /// <summary>Address announced in ICE candidates and in the signalling URL.</summary>
    public string AnnouncedIp { get; set; } = "127.0.0.1";

    /// <summary>PEM file with one or more PUBLIC KEY blocks for join token verification.</summary>
    public string? JoinTokenPublicKeyFile { get; set; }

    /// <summary>Live connections allowed per meeting (the meeting's MaxAttendees may lower it).</summary>
    public int MaxConnectionsPerMeeting { get; set; } = 250;

    /// <summary>Time a client has to send a valid join after the WebSocket opens.</summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a join waits for the MeetingCreated/ReplicaCreated event of its meeting.</summary>
    public TimeSpan PlacementWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a join then waits for the control plane's answer to GetMeetingPlacement.</summary>
    public TimeSpan PlacementQueryTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one attempt of the startup GetNodeMeetings query waits; failed attempts are retried with backoff.</summary>
    public TimeSpan NodeMeetingsQueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a revoked attendee is remembered when its meeting lives on: at least the control plane's
    /// JoinTokens:Lifetime, after which the attendee's token has expired anyway.
    /// </summary>
    public TimeSpan RevocationRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a deleted meeting's tombstone is kept; later joins for it are refused by the control plane's answer.</summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest client frame accepted, in bytes.</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Outbound frames queued per connection before the client is dropped as too slow.</summary>
    public int MaxQueuedFrames { get; set; } = 1024;

    public string EffectiveNodeId => string.IsNullOrWhiteSpace(NodeId) ? Region + "-a" : NodeId;

    /// <summary>
    /// The signalling WebSocket over TLS 1.3 (<c>Sfu:Tls</c>: WEBINAR_TLS_CERT_FILE, WEBINAR_TLS_KEY_FILE,
    /// WEBINAR_SFU_WSS_PORT), on every address by default; when configured, the signalling URL is <c>wss://</c>.
    /// The plain WebSocket on <see cref="ListenAddress"/>:<see cref="WsPort"/> stays (loopback, local tools).
    /// </summary>
    public TlsListenOptions Tls { get; set; } = new() { Port = 8451 };

    /// <summary>The host name or address in the signalling URL (one the certificate names); <see cref="AnnouncedIp"/> by default.</summary>
    public string? SignalingHost { get; set; }

    public string SignalingUrl
    {
        get
        {
            var host = string.IsNullOrWhiteSpace(SignalingHost) ? AnnouncedIp : SignalingHost;
            if (host.Contains(':', StringComparison.Ordinal))
            {
                host = "[" + host + "]";
            }

            return Tls.Enabled ? $"wss://{host}:{Tls.Port}/signal" : $"ws://{host}:{WsPort}/signal";
        }
    }
}

/// <summary>Broker settings, bound from the <c>RabbitMq</c> configuration section.</summary>
internal sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 55672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "guest";

    public string Password { get; set; } = "guest";

    /// <summary>Block host start until the broker is connected (tests); a node normally starts without it.</summary>
    public bool WaitUntilStarted { get; set; }
}
