using System.Security.Cryptography;

namespace Webinar.Media.Dtls;

/// <summary>
/// A certificate fingerprint as SDP carries it (RFC 8122 §5): <c>a=fingerprint:sha-256 AB:CD:...</c>.
/// <see cref="ToString"/> gives the attribute value ("sha-256 AB:CD:..."), <see cref="TryParse"/> reads it back.
/// </summary>
public sealed class DtlsFingerprint : IEquatable<DtlsFingerprint>
{
    private readonly byte[] _digest;

    private DtlsFingerprint(string algorithm, byte[] digest)
    {
        Algorithm = algorithm;
        _digest = digest;
    }

    /// <summary>Hash function name, lower case as in the IANA registry: "sha-256", "sha-384", "sha-512" or "sha-1".</summary>
    public string Algorithm { get; }

    public ReadOnlySpan<byte> Digest => _digest;

    /// <summary>Fingerprint of a DER-encoded certificate.</summary>
    public static DtlsFingerprint Compute(ReadOnlySpan<byte> certificateDer, string algorithm = "sha-256")
    {
        var length = DigestLength(algorithm);
        if (length == 0)
        {
            throw new ArgumentException($"Unsupported fingerprint algorithm '{algorithm}'.", nameof(algorithm));
        }

        var digest = new byte[length];
        Hash(algorithm.ToLowerInvariant(), certificateDer, digest);
        return new DtlsFingerprint(algorithm.ToLowerInvariant(), digest);
    }

    /// <summary>Parses "sha-256 AB:CD:..." (algorithm case-insensitive, hex case-insensitive). Never throws.</summary>
    public static bool TryParse(string? text, out DtlsFingerprint fingerprint)
    {
        fingerprint = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        var space = span.IndexOf(' ');
        if (space <= 0)
        {
            return false;
        }

        var algorithm = span[..space].ToString().ToLowerInvariant();
        var length = DigestLength(algorithm);
        if (length == 0)
        {
            return false;
        }

        var hex = span[(space + 1)..].Trim();
        // "AB:CD:...": 2 hex digits per byte, a colon between bytes.
        if (hex.Length != length * 3 - 1)
        {
            return false;
        }

        var digest = new byte[length];
        for (var i = 0; i < length; i++)
        {
            var at = i * 3;
            if (i > 0 && hex[at - 1] != ':')
            {
                return false;
            }

            var hi = HexValue(hex[at]);
            var lo = HexValue(hex[at + 1]);
            if (hi < 0 || lo < 0)
            {
                return false;
            }

            digest[i] = (byte)(hi << 4 | lo);
        }

        fingerprint = new DtlsFingerprint(algorithm, digest);
        return true;
    }

    /// <summary>True when the DER certificate hashes, with this fingerprint's algorithm, to this digest (constant time).</summary>
    public bool Matches(ReadOnlySpan<byte> certificateDer)
    {
        Span<byte> actual = stackalloc byte[64];
        actual = actual[.._digest.Length];
        Hash(Algorithm, certificateDer, actual);
        return CryptographicOperations.FixedTimeEquals(actual, _digest);
    }

    public override string ToString()
    {
        return string.Create(Algorithm.Length + 1 + _digest.Length * 3 - 1, this, static (chars, self) =>
        {
            self.Algorithm.AsSpan().CopyTo(chars);
            var at = self.Algorithm.Length;
            chars[at++] = ' ';
            for (var i = 0; i < self._digest.Length; i++)
            {
                if (i > 0)
                {
                    chars[at++] = ':';
                }

                chars[at++] = "0123456789ABCDEF"[self._digest[i] >> 4];
                chars[at++] = "0123456789ABCDEF"[self._digest[i] & 0xF];
            }
        });
    }

    public bool Equals(DtlsFingerprint? other) =>
        other is not null && other.Algorithm == Algorithm && other._digest.AsSpan().SequenceEqual(_digest);

    public override bool Equals(object? obj) => Equals(obj as DtlsFingerprint);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Algorithm);
        hash.AddBytes(_digest);
        return hash.ToHashCode();
    }

    private static int DigestLength(string algorithm) => algorithm.ToLowerInvariant() switch
    {
        "sha-1" => 20,
        "sha-256" => 32,
        "sha-384" => 48,
        "sha-512" => 64,
        _ => 0,
    };

    private static void Hash(string algorithm, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        switch (algorithm)
        {
            case "sha-1":
                SHA1.HashData(data, destination);
                break;
            case "sha-384":
                SHA384.HashData(data, destination);
                break;
            case "sha-512":
                SHA512.HashData(data, destination);
                break;
            default:
                SHA256.HashData(data, destination);
                break;
        }
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
