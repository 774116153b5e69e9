using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Webinar.Media.Dtls;

/// <summary>
/// The TLS crypto provider every handshake uses. BouncyCastle's provider is stateless apart from its random source,
/// which is thread-safe, so one instance serves all handshakes of the process.
/// </summary>
internal static class DtlsCrypto
{
    public static BcTlsCrypto Shared { get; } = new(new SecureRandom());
}
