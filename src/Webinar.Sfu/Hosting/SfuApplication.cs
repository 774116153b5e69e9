using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Webinar.Contracts.Bus;
using Webinar.Contracts.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Webinar.Sfu.Archives;
using Webinar.Sfu.Bus;
using Webinar.Sfu.Diagnostics;
using Webinar.Sfu.Media;
using Webinar.Sfu.Relay;
using Webinar.Sfu.Meetings;
using Webinar.Sfu.Sessions;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Hosting;

/// <summary>Builds the node: options, join tokens, meetings, sessions, the bus and the signalling endpoint.</summary>
internal static class SfuApplication
{
    /// <param name="args">Command line (<c>--region</c>, <c>--node-id</c>, ...).</param>
    /// <param name="configure">Runs before the node's own registrations, so tests can add configuration or swap services.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddWebinarSfuSources(args);
        configure?.Invoke(builder);

        builder.AddSfuOptions();
        // A test may bring its own media plane (signalling tests); the node otherwise runs the real one and the relay.
        var realMedia = !builder.Services.Any(d => d.ServiceType == typeof(IMediaPlane));
        if (realMedia)
        {
            builder.Services.AddMedia().AddRelay().AddArchives();
        }

        builder.Services.AddJoinTokens().AddMeetingDirectory().AddSessions().AddNodeBus(withRelay: realMedia);
        var nodeId = builder.Configuration.GetSection(SfuOptions.Section).Get<SfuOptions>()?.EffectiveNodeId ?? "sfu";
        builder.Services.AddNodeMetrics(nodeId);

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.MapGet("/healthz", () => Results.Ok());
        app.MapSignaling();
        app.MapMediaDiagnostics();
        app.MapNodeMetrics();
        return app;
    }

    private static void AddSfuOptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SfuOptions>().BindConfiguration(SfuOptions.Section);
        builder.Services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);

        var port = builder.Configuration.GetValue(SfuOptions.Section + ":" + nameof(SfuOptions.WsPort), 8181);
        var listen = builder.Configuration.GetValue<string>(SfuOptions.Section + ":" + nameof(SfuOptions.ListenAddress));
        var address = IPAddress.Loopback;
        if (!string.IsNullOrWhiteSpace(listen) && !IPAddress.TryParse(listen, out address))
        {
            throw new InvalidOperationException($"Sfu:ListenAddress (WEBINAR_SFU_LISTEN_ADDRESS) '{listen}' is not an IP address.");
        }

        var tls = builder.Configuration.GetSection(SfuOptions.Section + ":" + nameof(SfuOptions.Tls)).Get<TlsListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address!, port);
            if (tls is { Enabled: true })
            {
                ListenTls(kestrel, tls, builder.Configuration.GetValue(SfuOptions.Section + ":Tls:Port", new SfuOptions().Tls.Port));
            }
        });
    }

    private static void ListenTls(KestrelServerOptions kestrel, TlsListenOptions tls, int port)
    {
        var certificate = ServerTls.Load(tls);
        if (!IPAddress.TryParse(tls.ListenAddress, out var address))
        {
            throw new InvalidOperationException($"Sfu:Tls:ListenAddress '{tls.ListenAddress}' is not an IP address.");
        }

        kestrel.Listen(address, port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = ServerTls.Protocols,
        }));
    }
}
