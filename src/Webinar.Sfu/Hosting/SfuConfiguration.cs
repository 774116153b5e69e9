namespace Webinar.Sfu.Hosting;

/// <summary>Maps the WEBINAR_* environment variables and the node's command-line switches onto configuration keys.</summary>
internal static class SfuConfiguration
{
    private static readonly (string Variable, string Key)[] EnvironmentMap =
    [
        ("WEBINAR_SFU_REGION", "Sfu:Region"),
        ("WEBINAR_SFU_NODE_ID", "Sfu:NodeId"),
        ("WEBINAR_SFU_WS_PORT", "Sfu:WsPort"),
        ("WEBINAR_SFU_UDP_PORT", "Sfu:UdpPort"),
        ("WEBINAR_SFU_ANNOUNCED_IP", "Sfu:AnnouncedIp"),
        ("WEBINAR_SFU_LISTEN_ADDRESS", "Sfu:ListenAddress"),
        ("WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE", "Sfu:JoinTokenPublicKeyFile"),
        ("WEBINAR_ARCHIVE_DIR", "Archives:Directory"),
        ("WEBINAR_RABBITMQ_HOST", "RabbitMq:Host"),
        ("WEBINAR_RABBITMQ_PORT", "RabbitMq:Port"),
        ("WEBINAR_RABBITMQ_VHOST", "RabbitMq:VirtualHost"),
    ];

    private static readonly Dictionary<string, string> SwitchMap = new()
    {
        ["--region"] = "Sfu:Region",
        ["--node-id"] = "Sfu:NodeId",
        ["--ws-port"] = "Sfu:WsPort",
        ["--udp-port"] = "Sfu:UdpPort",
    };

    /// <summary>Adds the variables (when set) and then the command line again, so that switches win.</summary>
    public static IConfigurationBuilder AddWebinarSfuSources(this IConfigurationBuilder configuration, string[] args)
    {
        var values = new Dictionary<string, string?>();
        foreach (var (variable, key) in EnvironmentMap)
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(value))
            {
                values[key] = value;
            }
        }

        configuration.AddInMemoryCollection(values);
        configuration.AddCommandLine(args, SwitchMap);
        return configuration;
    }
}
