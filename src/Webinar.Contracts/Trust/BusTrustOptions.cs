namespace Webinar.Contracts.Trust;

/// <summary>
/// Where a component's bus identity comes from. Without <see cref="KeysDirectory"/> the bus is unauthenticated (a
/// warning at start; development only). With it, every message sent is signed and every message received must be
/// signed by a principal whose public key is in the directory.
/// </summary>
public sealed class BusTrustOptions
{
    public const string Section = "Trust";

    /// <summary>Public keys of every principal, one <c>{principal}.pub.pem</c> (SubjectPublicKeyInfo, P-256) each.</summary>
    public string? KeysDirectory { get; set; }

    /// <summary>This component's PKCS#8 P-256 private key; default <c>{KeysDirectory}/private/{principal}.key.pem</c>.</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>A message signed longer ago (or further ahead, clock skew) than this is refused as stale.</summary>
    public TimeSpan MaxMessageAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often, at most, an unknown sender makes the directory be read again (new nodes).</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Signatures remembered to refuse replays (each for <see cref="MaxMessageAge"/>); beyond it the oldest go first.</summary>
    public int ReplayCacheSize { get; set; } = 200_000;
}
