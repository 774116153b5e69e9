using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Webinar.Contracts.Tls;

namespace Webinar.ControlPlane.Hosting;

/// <summary>
/// The HTTPS listener (section <c>Tls</c>: WEBINAR_TLS_CERT_FILE, WEBINAR_TLS_KEY_FILE, WEBINAR_HTTPS_PORT): the same API
/// and demo as the plain listener, over TLS 1.3 only, on every address by default. The plain listener stays (loopback).
/// </summary>
internal static class ControlPlaneTls
{
    public const string Section = "Tls";
    public const int DefaultPort = 8443;

    public static void Listen(KestrelServerOptions kestrel, TlsListenOptions tls)
    {
        if (!tls.Enabled)
        {
            return;
        }

        var certificate = ServerTls.Load(tls);
        if (!IPAddress.TryParse(tls.ListenAddress, out var address))
        {
            throw new InvalidOperationException($"Tls:ListenAddress '{tls.ListenAddress}' is not an IP address.");
        }

        kestrel.Listen(address, tls.Port == 0 ? DefaultPort : tls.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = ServerTls.Protocols,
        }));
    }
}
