using Webinar.Media.Dtls.OpenSsl;

namespace Webinar.Media.Dtls;

/// <summary>Which DTLS implementation runs a <see cref="DtlsTransport"/>.</summary>
public enum DtlsEngine
{
    /// <summary>For a server: OpenSSL when libssl.so.3 (OpenSSL 3) loads, else BouncyCastle. For a client: BouncyCastle.</summary>
    Automatic,

    /// <summary>OpenSSL's DTLS through libssl.so.3 and memory BIOs, driven as a state machine (server role only).</summary>
    OpenSsl,

    /// <summary>BouncyCastle's blocking DTLS protocol, one thread per running handshake.</summary>
    BouncyCastle,
}

/// <summary>The one rule that picks a transport's engine from its role and <see cref="DtlsTransportOptions.ServerEngine"/>.</summary>
internal static class DtlsEngines
{
    public static DtlsEngine For(DtlsRole role, DtlsTransportOptions options)
    {
        if (role == DtlsRole.Client)
        {
            return DtlsEngine.BouncyCastle;
        }

        return options.ServerEngine switch
        {
            DtlsEngine.BouncyCastle => DtlsEngine.BouncyCastle,
            DtlsEngine.OpenSsl when !OpenSslNative.IsAvailable =>
                throw new PlatformNotSupportedException("The OpenSSL DTLS server needs libssl.so.3 (OpenSSL 3.0 or newer)."),
            DtlsEngine.OpenSsl => DtlsEngine.OpenSsl,
            _ => OpenSslNative.IsAvailable ? DtlsEngine.OpenSsl : DtlsEngine.BouncyCastle,
        };
    }
}
