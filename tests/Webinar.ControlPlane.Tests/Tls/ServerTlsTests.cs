using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Webinar.Contracts.Tls;

namespace Webinar.ControlPlane.Tests.Tls;

/// <summary>The one TLS policy of the API and signalling listeners (the listeners themselves: the end-to-end TLS tests).</summary>
public sealed class ServerTlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("webinar-tls-test-").FullName;

    [Fact]
    public void Only_tls_1_3_is_offered() => Assert.Equal(SslProtocols.Tls13, ServerTls.Protocols);

    [Fact]
    public void An_rsa_3072_certificate_loads_with_its_key()
    {
        var options = Write(RSA.Create(3072));
        using var certificate = ServerTls.Load(options);
        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public void An_rsa_2048_certificate_is_refused_with_a_message_naming_the_file()
    {
        var options = Write(RSA.Create(2048));
        var e = Assert.Throws<InvalidOperationException>(() => ServerTls.Load(options));
        Assert.Contains(options.CertificateFile!, e.Message);
        Assert.Contains("2048 bits, at least 3072", e.Message);
    }

    [Fact]
    public void An_ecdsa_p256_certificate_is_accepted() => ServerTls.Load(Write(ECDsa.Create(ECCurve.NamedCurves.nistP256))).Dispose();

    [Fact]
    public void A_missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ServerTls.Load(new TlsListenOptions { CertificateFile = Path.Combine(_dir, "none.pem") }));
        Assert.Contains("could not be loaded", e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TlsListenOptions Write(AsymmetricAlgorithm key)
    {
        using (key)
        {
            var request = key switch
            {
                RSA rsa => new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                ECDsa ec => new CertificateRequest("CN=localhost", ec, HashAlgorithmName.SHA256),
                _ => throw new ArgumentException("RSA or ECDSA", nameof(key)),
            };
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            var name = Guid.NewGuid().ToString("N");
            var certificateFile = Path.Combine(_dir, name + ".pem");
            var keyFile = Path.Combine(_dir, name + ".key.pem");
            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
            File.WriteAllText(keyFile, key is RSA r ? r.ExportPkcs8PrivateKeyPem() : ((ECDsa)key).ExportPkcs8PrivateKeyPem());
            return new TlsListenOptions { CertificateFile = certificateFile, KeyFile = keyFile };
        }
    }
}
