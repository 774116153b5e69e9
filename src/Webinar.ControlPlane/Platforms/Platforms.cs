using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Platforms;

/// <summary>One tenant as configured: <c>Platforms:N:Id</c>, <c>Platforms:N:ApiKeys:M</c>, <c>Platforms:N:WebhookSecret</c>.</summary>
internal sealed class PlatformEntry
{
    public string Id { get; set; } = "";

    public List<string> ApiKeys { get; set; } = [];

    /// <summary>HMAC-SHA256 key of this platform's webhooks; required, and never one of any platform's API keys.</summary>
    public string? WebhookSecret { get; set; }
}

/// <summary>The platforms the control plane serves; the development key (<see cref="ApiKeyOptions"/>) is one more.</summary>
internal sealed class PlatformOptions
{
    public const string Section = "Platforms";

    public List<PlatformEntry> Platforms { get; set; } = [];
}

/// <summary>A platform a request was authenticated as.</summary>
internal sealed record Platform(string Id, string WebhookSecret);

/// <summary>
/// Every API key and the one platform it belongs to, and each platform's webhook secret, read once at start. The
/// development key (<c>WEBINAR_API_KEY</c>, with <c>ApiKeys:Keys</c>) is the platform <see cref="ApiKeyOptions.DevelopmentPlatformId"/>
/// whose webhook secret is <c>Webhooks:SigningSecret</c> or, without one, a random secret logged at start. A key
/// that names two platforms, a duplicate id or a webhook secret equal to an API key stops the start.
/// </summary>
internal sealed class PlatformDirectory
{
    public const string PlatformClaim = "webinar:platform";

    private static readonly System.Buffers.SearchValues<char> IdCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    private readonly (byte[] KeyHash, Platform Platform)[] _keys;
    private readonly Dictionary<string, Platform> _byId = new(StringComparer.Ordinal);

    public PlatformDirectory(IOptions<ApiKeyOptions> apiKeys, IOptions<PlatformOptions> platforms, IOptions<WebhookOptions> webhooks, ILogger<PlatformDirectory> logger)
    {
        var entries = new List<(string Id, List<string> Keys, string? Secret)>();
        var devKeys = new List<string>();
        if (!string.IsNullOrWhiteSpace(apiKeys.Value.DevelopmentKey))
        {
            devKeys.Add(apiKeys.Value.DevelopmentKey);
        }

        devKeys.AddRange(apiKeys.Value.Keys.Where(k => !string.IsNullOrWhiteSpace(k)));
        var configured = platforms.Value.Platforms;
        if (devKeys.Count == 0 && configured.Count == 0)
        {
            var generated = "dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            devKeys.Add(generated);
            logger.ApiKeyGenerated(generated);
        }

        if (devKeys.Count > 0)
        {
            var secret = webhooks.Value.SigningSecret;
            if (string.IsNullOrEmpty(secret))
            {
                secret = "whsec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                logger.WebhookSecretGenerated(apiKeys.Value.DevelopmentPlatformId, secret);
            }

            entries.Add((apiKeys.Value.DevelopmentPlatformId, devKeys, secret));
        }

        entries.AddRange(configured.Select(p => (p.Id, p.ApiKeys.Where(k => !string.IsNullOrWhiteSpace(k)).ToList(), p.WebhookSecret)));

        var allKeys = new HashSet<string>(StringComparer.Ordinal);
        var keys = new List<(byte[], Platform)>();
        foreach (var (id, platformKeys, secret) in entries)
        {
            if (string.IsNullOrEmpty(id) || id.Length > 64 || id.AsSpan().ContainsAnyExcept(IdCharacters))
            {
                throw new OptionsValidationException(PlatformOptions.Section, typeof(PlatformOptions), [$"Platform id '{id}' must be 1 to 64 letters, digits, '-', '_' or '.'."]);
            }

            if (string.IsNullOrEmpty(secret) || secret.Length < 16)
            {
                throw new OptionsValidationException(PlatformOptions.Section, typeof(PlatformOptions), [$"Platform '{id}' needs a WebhookSecret of at least 16 characters."]);
            }

            var platform = new Platform(id, secret);
            if (!_byId.TryAdd(id, platform))
            {
                throw new OptionsValidationException(PlatformOptions.Section, typeof(PlatformOptions), [$"Platform id '{id}' is configured twice."]);
            }

            foreach (var key in platformKeys)
            {
                if (!allKeys.Add(key))
                {
                    throw new OptionsValidationException(PlatformOptions.Section, typeof(PlatformOptions), [$"An API key of platform '{id}' is configured more than once; each key belongs to one platform."]);
                }

                keys.Add((SHA256.HashData(Encoding.UTF8.GetBytes(key)), platform));
            }
        }

        foreach (var platform in _byId.Values)
        {
            if (allKeys.Contains(platform.WebhookSecret))
            {
                throw new OptionsValidationException(PlatformOptions.Section, typeof(PlatformOptions), [$"The webhook secret of platform '{platform.Id}' is an API key; webhook secrets must never be API keys."]);
            }
        }

        _keys = keys.ToArray();
    }

    /// <summary>The platform whose key was presented (compared in constant time against every key), or null.</summary>
    public Platform? Authenticate(ReadOnlySpan<char> presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToArray()), hash);
        Platform? match = null;
        foreach (var (key, platform) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key))
            {
                match = platform;
            }
        }

        return match;
    }

    public Platform? Find(string id) => _byId.GetValueOrDefault(id);
}

internal static class PlatformClaims
{
    /// <summary>The platform an authenticated request belongs to (set by the API-key handler).</summary>
    public static string PlatformId(this ClaimsPrincipal user) =>
        user.FindFirstValue(PlatformDirectory.PlatformClaim) ?? throw new InvalidOperationException("The request is not authenticated as a platform.");
}
