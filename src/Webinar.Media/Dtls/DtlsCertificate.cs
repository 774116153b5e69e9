using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.X509;
using TlsCertificateChain = Org.BouncyCastle.Tls.Certificate;

namespace Webinar.Media.Dtls;

/// <summary>
/// A self-signed ECDSA P-256 certificate for DTLS-SRTP and its SHA-256 fingerprint.
/// WebRTC authenticates it only through the fingerprint in SDP, so one per node process, made at startup, is enough.
/// Immutable and safe to share between any number of <see cref="DtlsTransport"/>s.
/// </summary>
public sealed class DtlsCertificate
{
    private DtlsCertificate(TlsCertificateChain chain, AsymmetricKeyParameter privateKey, byte[] der)
    {
        Chain = chain;
        PrivateKey = privateKey;
        Der = der;
        Fingerprint = DtlsFingerprint.Compute(der);
        using var key = DtlsCrypto.ToEcdsa((ECPrivateKeyParameters)privateKey);
        SigningParameters = key.ExportParameters(includePrivateParameters: true);
    }

    /// <summary>SHA-256 fingerprint; <c>Fingerprint.ToString()</c> is the SDP attribute value "sha-256 AB:CD:...".</summary>
    public DtlsFingerprint Fingerprint { get; }

    /// <summary>The DER encoding of the certificate.</summary>
    public ReadOnlyMemory<byte> Der { get; }

    internal TlsCertificateChain Chain { get; }

    internal AsymmetricKeyParameter PrivateKey { get; }

    /// <summary>The private key as .NET ECDSA parameters, exported once; a key object made from them signs.</summary>
    private ECParameters SigningParameters { get; }

    /// <summary>A fresh .NET ECDSA key for signing (the caller disposes it; .NET key objects are not shared across threads).</summary>
    internal ECDsa CreateSigningKey() => ECDsa.Create(SigningParameters);

    /// <summary>Generates a fresh key pair and a certificate valid from a day before now for a year.</summary>
    public static DtlsCertificate Generate(TimeProvider? timeProvider = null)
    {
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var random = new SecureRandom();

        var keyGenerator = new ECKeyPairGenerator();
        keyGenerator.Init(new ECKeyGenerationParameters(SecObjectIdentifiers.SecP256r1, random));
        var keyPair = keyGenerator.GenerateKeyPair();

        var name = new X509Name("CN=webinar-sfu");
        var generator = new X509V3CertificateGenerator();
        generator.SetSerialNumber(new BigInteger(63, random).Add(BigInteger.One));
        generator.SetIssuerDN(name);
        generator.SetSubjectDN(name);
        generator.SetNotBefore(now.AddDays(-1));
        generator.SetNotAfter(now.AddDays(365));
        generator.SetPublicKey(keyPair.Public);
        var certificate = generator.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", keyPair.Private, random));

        var der = certificate.GetEncoded();
        var chain = new TlsCertificateChain([new BcTlsCertificate(DtlsCrypto.Shared, der)]);
        return new DtlsCertificate(chain, keyPair.Private, der);
    }
}
