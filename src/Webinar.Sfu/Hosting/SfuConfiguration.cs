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
        ("WEBINAR_SFU_TCP_PORT", "Sfu:TcpPort"),
        ("WEBINAR_SFU_ICE_TCP", "Sfu:IceTcp"),
        ("WEBINAR_SFU_RELAY_ADDRESS", "Sfu:RelayAddress"),
        ("WEBINAR_SFU_ANNOUNCED_IP", "Sfu:AnnouncedIp"),
        ("WEBINAR_SFU_LISTEN_ADDRESS", "Sfu:ListenAddress"),
        ("WEBINAR_SFU_SIGNALING_HOST", "Sfu:SignalingHost"),
        ("WEBINAR_SFU_WSS_PORT", "Sfu:Tls:Port"),
        ("WEBINAR_TLS_CERT_FILE", "Sfu:Tls:CertificateFile"),
        ("WEBINAR_TLS_KEY_FILE", "Sfu:Tls:KeyFile"),
        ("WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE", "Sfu:JoinTokenPublicKeyFile"),
        ("WEBINAR_ARCHIVE_DIR", "Archives:Directory"),
        ("WEBINAR_RABBITMQ_HOST", "RabbitMq:Host"),
        ("WEBINAR_RABBITMQ_PORT", "RabbitMq:Port"),
        ("WEBINAR_RABBITMQ_VHOST", "RabbitMq:VirtualHost"),
        ("WEBINAR_SFU_RABBITMQ_USER", "RabbitMq:Username"),
        ("WEBINAR_SFU_RABBITMQ_PASSWORD", "RabbitMq:Password"),
        ("WEBINAR_TRUST_KEYS_DIR", "Trust:KeysDirectory"),
        ("WEBINAR_TRUST_PRIVATE_KEY_FILE", "Trust:PrivateKeyFile"),
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

        // WEBINAR_SFU_MEDIA_ADDRESSES="10.0.0.5=203.0.113.7 127.0.0.1": ip[=announced], separated by spaces or commas.
        if (Environment.GetEnvironmentVariable("WEBINAR_SFU_MEDIA_ADDRESSES") is { Length: > 0 } addresses)
        {
            var i = 0;
            foreach (var entry in addresses.Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
                values[$"Sfu:MediaAddresses:{i}:Ip"] = parts[0];
                if (parts.Length == 2 && parts[1].Length > 0)
                {
                    values[$"Sfu:MediaAddresses:{i}:AnnouncedAddress"] = parts[1];
                }

                i++;
            }
        }

        configuration.AddInMemoryCollection(values);
        configuration.AddCommandLine(args, SwitchMap);
        return configuration;
    }
}
