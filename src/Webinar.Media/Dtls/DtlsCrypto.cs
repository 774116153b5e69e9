using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.Utilities;

namespace Webinar.Media.Dtls;

/// <summary>
/// The TLS crypto provider every handshake uses: BouncyCastle's, except that ECDSA P-256 signatures (our own
/// ServerKeyExchange and CertificateVerify, and checking the peer's) go through .NET's primitives (OpenSSL on Linux),
/// about ten times cheaper than BouncyCastle's managed curve arithmetic; that was most of a handshake's CPU. BouncyCastle's
/// provider is stateless apart from its random source, which is thread-safe, so one instance serves the process.
/// </summary>
internal sealed class DtlsCrypto : BcTlsCrypto
{
    private static readonly Org.BouncyCastle.Math.EC.ECCurve P256 = Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByOid(SecObjectIdentifiers.SecP256r1).Curve;

    private DtlsCrypto()
        : base(new SecureRandom())
    {
    }

    public static DtlsCrypto Shared { get; } = new();

    public override TlsCertificate CreateCertificate(short type, byte[] encoding) =>
        type == CertificateType.X509 ? new PeerCertificate(this, encoding) : base.CreateCertificate(type, encoding);

    /// <summary>A .NET ECDSA key for a BouncyCastle P-256 public key; null for any other kind of key.</summary>
    internal static ECDsa? ToEcdsa(ECPublicKeyParameters key)
    {
        if (key.Parameters.Curve.FieldSize != 256 || !key.Parameters.Curve.Equals(P256))
        {
            return null;
        }

        var q = key.Q.Normalize();
        return ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
    }

    /// <summary>A .NET ECDSA key pair for a BouncyCastle P-256 private key.</summary>
    internal static ECDsa ToEcdsa(ECPrivateKeyParameters key)
    {
        var q = key.Parameters.G.Multiply(key.D).Normalize();
        return ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = BigIntegers.AsUnsignedByteArray(32, key.D),
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
    }

    /// <summary>A peer's X.509 certificate whose ECDSA P-256 signatures are verified by .NET.</summary>
    private sealed class PeerCertificate(BcTlsCrypto crypto, byte[] encoding) : BcTlsCertificate(crypto, encoding)
    {
        public override TlsVerifier CreateVerifier(short signatureAlgorithm)
        {
            if (signatureAlgorithm == SignatureAlgorithm.ecdsa && GetPublicKey() is ECPublicKeyParameters ec)
            {
                ValidateKeyUsage(Org.BouncyCastle.Asn1.X509.KeyUsage.DigitalSignature);
                var key = ToEcdsa(ec);
                if (key is not null)
                {
                    return new EcdsaVerifier(key);
                }
            }

            return base.CreateVerifier(signatureAlgorithm);
        }
    }

    private sealed class EcdsaVerifier(ECDsa key) : TlsVerifier
    {
        public TlsStreamVerifier? GetStreamVerifier(DigitallySigned digitallySigned) => null;

        public bool VerifyRawSignature(DigitallySigned digitallySigned, byte[] hash)
        {
            var algorithm = digitallySigned.Algorithm;
            if (algorithm is not null && algorithm.Signature != SignatureAlgorithm.ecdsa)
            {
                throw new InvalidOperationException("Invalid algorithm: " + algorithm);
            }

            using (key)
            {
                return key.VerifyHash(hash, digitallySigned.Signature, DSASignatureFormat.Rfc3279DerSequence);
            }
        }
    }
}

/// <summary>
/// Our certificate's signing credentials: ECDSA P-256 through .NET. Importing the key costs as much as a signature, so
/// each thread keeps the key object of the certificate it signed with last (handshake threads are long-lived workers).
/// </summary>
internal sealed class DtlsEcdsaSigner(DtlsCertificate certificate, SignatureAndHashAlgorithm? algorithm) : TlsCredentialedSigner
{
    [ThreadStatic]
    private static DtlsCertificate? t_certificate;

    [ThreadStatic]
    private static ECDsa? t_key;

    public Certificate Certificate => certificate.Chain;

    public SignatureAndHashAlgorithm? SignatureAndHashAlgorithm => algorithm;

    public byte[] GenerateRawSignature(byte[] hash)
    {
        if (!ReferenceEquals(t_certificate, certificate) || t_key is null)
        {
            t_key?.Dispose();
            t_key = certificate.CreateSigningKey();
            t_certificate = certificate;
        }

        return t_key.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    public TlsStreamSigner? GetStreamSigner() => null;
}
