using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Archives;

/// <summary>
/// Signed, expiring playback links (<c>/archives/{id}/content?expires=…&amp;signature=…</c>), so a browser's
/// &lt;video&gt; element, which cannot send the API key, may fetch an archive the platform handed it.
/// Signature: lowercase hex HMAC-SHA256(secret, "archive-content.{archiveId}.{expires}"), the secret being
/// <c>Archives:UrlSigningSecret</c> or else the archive's platform's webhook secret (the same on every instance).
/// </summary>
internal sealed class ArchiveUrls(IOptions<ArchiveOptions> options, PlatformDirectory platforms, TimeProvider time)
{
    private byte[]? Secret(ArchiveRow archive) =>
        (options.Value.UrlSigningSecret ?? platforms.Find(archive.PlatformId)?.WebhookSecret) is { Length: > 0 } secret ? Encoding.UTF8.GetBytes(secret) : null;

    public string? For(ArchiveRow archive)
    {
        if (archive.State != ArchiveStatus.Available || Secret(archive) is not { } secret)
        {
            return null;
        }

        var expires = (time.GetUtcNow() + options.Value.UrlLifetime).ToUnixTimeSeconds();
        return $"/archives/{archive.ArchiveId}/content?expires={expires}&signature={Sign(secret, archive.ArchiveId, expires)}";
    }

    public bool IsValid(ArchiveRow archive, long expires, string? signature)
    {
        if (signature is null || expires < time.GetUtcNow().ToUnixTimeSeconds() || Secret(archive) is not { } secret)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, archive.ArchiveId, expires));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    private static string Sign(byte[] secret, Guid archiveId, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("archive-content." + archiveId.ToString("D") + "." + expires.ToString(CultureInfo.InvariantCulture))));
}

/// <summary>Archive settings of the control plane, bound from <c>Archives</c>.</summary>
internal sealed class ArchiveOptions
{
    public const string Section = "Archives";

    /// <summary>An archive stops itself after this long (the node enforces it); ArchiveStopped reason MaxDuration.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(4);

    /// <summary>HMAC key of playback links; defaults to the archive's platform's webhook secret.</summary>
    public string? UrlSigningSecret { get; set; }

    /// <summary>
    /// An archive whose node is gone (silent while other nodes' heartbeats arrive) and whose last heartbeat is older
    /// than this is Failed by <see cref="ArchiveSweepJob"/>; a node back sooner finishes it as a partial archive.
    /// </summary>
    public TimeSpan NodeLostAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often <see cref="ArchiveSweepJob"/> looks for archives of lost nodes.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a playback link in an Archive's <c>Url</c> works.</summary>
    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(1);
}
