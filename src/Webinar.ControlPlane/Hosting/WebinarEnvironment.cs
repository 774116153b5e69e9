namespace Webinar.ControlPlane.Hosting;

/// <summary>
/// Maps the WEBINAR_* environment variables shared by every Webinar service (see docs/operations.md) onto
/// configuration keys, so that they and appsettings/ASP.NET Core environment variables work the same way.
/// </summary>
internal static class WebinarEnvironment
{
    private static readonly (string Variable, string Key)[] Map =
    [
        ("WEBINAR_HTTP_PORT", "Http:Port"),
        ("WEBINAR_API_KEY", "ApiKeys:DevelopmentKey"),
        ("WEBINAR_IDLE_TIMEOUT_SECONDS", "Idle:TimeoutSeconds"),
        ("WEBINAR_PG_HOST", "Database:Host"),
        ("WEBINAR_PG_PORT", "Database:Port"),
        ("WEBINAR_PG_DATABASE", "Database:Database"),
        ("WEBINAR_RABBITMQ_HOST", "RabbitMq:Host"),
        ("WEBINAR_RABBITMQ_PORT", "RabbitMq:Port"),
        ("WEBINAR_RABBITMQ_VHOST", "RabbitMq:VirtualHost"),
        ("WEBINAR_CONTROL_PLANE_RABBITMQ_USER", "RabbitMq:Username"),
        ("WEBINAR_CONTROL_PLANE_RABBITMQ_PASSWORD", "RabbitMq:Password"),
        ("WEBINAR_TRUST_KEYS_DIR", "Trust:KeysDirectory"),
        ("WEBINAR_TRUST_PRIVATE_KEY_FILE", "Trust:PrivateKeyFile"),
        ("WEBINAR_REGIONS", "Meetings:Regions"),
        ("WEBINAR_REPLICAS_PER_PRIMARY", "Meetings:ReplicasPerPrimary"),
        ("WEBINAR_JOIN_TOKEN_PRIVATE_KEY_FILE", "JoinTokens:PrivateKeyFile"),
        ("WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE", "JoinTokens:PublicKeyFile"),
        ("WEBINAR_WEBHOOK_SECRET", "Webhooks:SigningSecret"),
        ("WEBINAR_WEBHOOK_ALLOWED_NETWORKS", "Webhooks:AllowedNetworks"),
        ("WEBINAR_TURN_SECRET", "Turn:Secret"),
        ("WEBINAR_TURN_URLS", "Turn:Urls"),
        ("WEBINAR_TLS_CERT_FILE", "Tls:CertificateFile"),
        ("WEBINAR_TLS_KEY_FILE", "Tls:KeyFile"),
        ("WEBINAR_HTTPS_PORT", "Tls:Port"),
        ("WEBINAR_ARCHIVE_DIR", "Archives:Directory"),
    ];

    /// <summary>Adds the mapped variables as a configuration source; sources added later still override them.</summary>
    public static IConfigurationBuilder AddWebinarEnvironment(this IConfigurationBuilder configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in Map)
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(value))
            {
                values[key] = value.Trim();
            }
        }

        return configuration.AddInMemoryCollection(values);
    }
}
