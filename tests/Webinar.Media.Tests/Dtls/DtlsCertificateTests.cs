using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Webinar.Media.Dtls;

namespace Webinar.Media.Tests.Dtls;

public sealed class DtlsCertificateTests
{
    [Fact]
    public void Generated_certificate_is_self_signed_ecdsa_p256_and_currently_valid()
    {
        var certificate = DtlsCertificate.Generate();

        using var parsed = X509CertificateLoader.LoadCertificate(certificate.Der.Span);
        using var key = parsed.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.Equal(parsed.Subject, parsed.Issuer);
        Assert.True(parsed.NotBefore < DateTime.Now && DateTime.Now < parsed.NotAfter);
    }

    [Fact]
    public void Fingerprint_is_the_sha256_of_the_der_formatted_for_sdp()
    {
        var certificate = DtlsCertificate.Generate();
        var expected = "sha-256 " + string.Join(':', SHA256.HashData(certificate.Der.Span).Select(b => b.ToString("X2")));

        Assert.Equal(expected, certificate.Fingerprint.ToString());
        Assert.Matches("^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$", certificate.Fingerprint.ToString());
    }

    [Fact]
    public void Two_certificates_have_different_fingerprints()
    {
        Assert.NotEqual(DtlsCertificate.Generate().Fingerprint, DtlsCertificate.Generate().Fingerprint);
    }
}

public sealed class DtlsFingerprintTests
{
    [Fact]
    public void Parses_what_it_formats_and_matches_the_certificate()
    {
        var certificate = DtlsCertificate.Generate();

        Assert.True(DtlsFingerprint.TryParse(certificate.Fingerprint.ToString(), out var parsed));

        Assert.Equal(certificate.Fingerprint, parsed);
        Assert.True(parsed.Matches(certificate.Der.Span));
        Assert.False(parsed.Matches(DtlsCertificate.Generate().Der.Span));
    }

    [Fact]
    public void Accepts_upper_case_algorithm_and_lower_case_hex_as_browsers_may_send()
    {
        var text = "SHA-256 " + string.Join(':', Enumerable.Range(0, 32).Select(i => (i * 7).ToString("x2")));

        Assert.True(DtlsFingerprint.TryParse(text, out var parsed));

        Assert.Equal("sha-256", parsed.Algorithm);
        Assert.Equal(text.ToUpperInvariant().Replace("SHA-256", "sha-256", StringComparison.Ordinal), parsed.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha-256")]
    [InlineData("md5 AB:CD")]
    [InlineData("sha-256 AB:CD")]
    [InlineData("sha-256 ZZ:4A:C5:6D:3A:14:21:0A:F0:2B:9E:F1:6E:20:3D:4B:9E:8F:2E:44:5C:76:3A:7E:EE:8C:0A:56:2D:61:B0:50")]
    [InlineData("sha-256 5A-4A-C5-6D-3A-14-21-0A-F0-2B-9E-F1-6E-20-3D-4B-9E-8F-2E-44-5C-76-3A-7E-EE-8C-0A-56-2D-61-B0-50")]
    public void Rejects_malformed_fingerprints(string? text)
    {
        Assert.False(DtlsFingerprint.TryParse(text, out _));
    }

    [Fact]
    public void Random_text_never_throws()
    {
        var random = new Random(8122);
        const string alphabet = "sha-256 0123456789ABCDEFabcdef:: \t";
        for (var i = 0; i < 5_000; i++)
        {
            var chars = new char[random.Next(0, 110)];
            for (var c = 0; c < chars.Length; c++)
            {
                chars[c] = random.Next(10) == 0 ? (char)random.Next(0, 0x3000) : alphabet[random.Next(alphabet.Length)];
            }

            _ = DtlsFingerprint.TryParse(new string(chars), out _);
        }
    }
}
