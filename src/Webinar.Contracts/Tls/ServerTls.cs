using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Webinar.Contracts.Tls;

/// <summary>
/// Where a service serves TLS (the control plane's API and demo, a node's signalling WebSocket): a certificate and
/// key in PEM files, an address and a port. Without a certificate the service serves only its plain listener.
/// </summary>
public sealed class TlsListenOptions
{
    /// <summary>PEM certificate (the server certificate, then any intermediates).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of the certificate (PKCS#8 or PKCS#1).</summary>
    public string? KeyFile { get; set; }

    /// <summary>The address the TLS listener binds; every address by default, since TLS is what other hosts use.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The TLS port.</summary>
    public int Port { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificateFile);
}

/// <summary>
/// The one TLS policy of every Webinar service: TLS 1.3 only, and a server key of at least 3072 bits for RSA
/// (256 bits for ECDSA, the same strength), as the product promises for signalling.
/// </summary>
public static class ServerTls
{
    public const SslProtocols Protocols = SslProtocols.Tls13;
    public const int MinimumRsaKeyBits = 3072;
    public const int MinimumEcdsaKeyBits = 256;

    /// <summary>Loads the certificate and its key; refuses, with a message naming the files, what the policy does not allow.</summary>
    public static X509Certificate2 Load(TlsListenOptions options)
    {
        var certificateFile = options.CertificateFile ?? throw new InvalidOperationException("No TLS certificate file is configured.");
        var keyFile = string.IsNullOrWhiteSpace(options.KeyFile) ? certificateFile : options.KeyFile;
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"The TLS certificate {certificateFile} with key {keyFile} could not be loaded: {e.Message}", e);
        }

        var problem = KeyProblem(certificate);
        if (problem is not null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"The TLS certificate {certificateFile} is refused: {problem}");
        }

        return certificate;
    }

    /// <summary>Why a certificate's key is too weak for the policy, or null.</summary>
    public static string? KeyProblem(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return rsa.KeySize >= MinimumRsaKeyBits ? null : $"its RSA key has {rsa.KeySize} bits, at least {MinimumRsaKeyBits} are required.";
        }

        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null)
        {
            return ecdsa.KeySize >= MinimumEcdsaKeyBits ? null : $"its ECDSA key has {ecdsa.KeySize} bits, at least {MinimumEcdsaKeyBits} are required.";
        }

        return "its key is neither RSA nor ECDSA.";
    }
}
