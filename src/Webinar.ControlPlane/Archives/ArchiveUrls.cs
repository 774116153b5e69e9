using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Api;

namespace Webinar.ControlPlane.Archives;

/// <summary>
/// Signed, expiring playback links (<c>/archives/{id}/content?expires=…&amp;signature=…</c>), so a browser's
/// &lt;video&gt; element, which cannot send the API key, may fetch an archive the platform handed it.
/// Signature: lowercase hex HMAC-SHA256(secret, "{archiveId}.{expires}").
/// </summary>
internal sealed class ArchiveUrls(IOptions<ArchiveOptions> options, ApiKeyStore keys, TimeProvider time)
{
    private byte[] Secret => Encoding.UTF8.GetBytes(options.Value.UrlSigningSecret ?? keys.PrimaryKey);

    public string? For(ArchiveRow archive)
    {
        if (archive.State != ArchiveStatus.Available)
        {
            return null;
        }

        var expires = (time.GetUtcNow() + options.Value.UrlLifetime).ToUnixTimeSeconds();
        return $"/archives/{archive.ArchiveId}/content?expires={expires}&signature={Sign(archive.ArchiveId, expires)}";
    }

    public bool IsValid(Guid archiveId, long expires, string? signature)
    {
        if (signature is null || expires < time.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(archiveId, expires));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    private string Sign(Guid archiveId, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Secret, Encoding.UTF8.GetBytes(archiveId.ToString("D") + "." + expires.ToString(CultureInfo.InvariantCulture))));
}

/// <summary>Archive settings of the control plane, bound from <c>Archives</c>.</summary>
internal sealed class ArchiveOptions
{
    public const string Section = "Archives";

    /// <summary>An archive stops itself after this long (the node enforces it); ArchiveStopped reason MaxDuration.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(4);

    /// <summary>HMAC key of playback links; defaults to the development API key.</summary>
    public string? UrlSigningSecret { get; set; }

    /// <summary>How long a playback link in an Archive's <c>Url</c> works.</summary>
    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(1);
}
