using System.Security.Cryptography;

namespace Webinar.Media.Ice;

/// <summary>
/// An ICE username fragment and password (RFC 8445 §5.3: ice-char = ALPHA / DIGIT / "+" / "/"; the ufrag carries at
/// least 24 bits of randomness and the password at least 128).
/// </summary>
public sealed record IceCredentials(string Ufrag, string Password)
{
    private const string IceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>8-character ufrag (48 bits) and 24-character password (144 bits) from a CSPRNG.</summary>
    public static IceCredentials Generate() =>
        new(RandomNumberGenerator.GetString(IceChars, 8), RandomNumberGenerator.GetString(IceChars, 24));
}
