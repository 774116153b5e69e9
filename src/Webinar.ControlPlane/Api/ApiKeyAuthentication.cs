using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Api;

/// <summary>The platform API keys the control plane accepts, read once from <see cref="ApiKeyOptions"/>.</summary>
internal sealed class ApiKeyStore
{
    private readonly byte[][] _keys;

    public ApiKeyStore(IOptions<ApiKeyOptions> options, ILogger<ApiKeyStore> logger)
    {
        var keys = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Value.DevelopmentKey))
        {
            keys.Add(options.Value.DevelopmentKey);
        }

        keys.AddRange(options.Value.Keys.Where(k => !string.IsNullOrWhiteSpace(k)));
        if (keys.Count == 0)
        {
            var generated = "dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            keys.Add(generated);
            logger.ApiKeyGenerated(generated);
        }

        PrimaryKey = keys[0];
        _keys = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
    }

    /// <summary>The first configured key (the development key when set); the default webhook signing secret.</summary>
    public string PrimaryKey { get; }

    public bool IsValid(ReadOnlySpan<char> presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(presented.ToArray());
        SHA256.HashData(bytes, hash);
        var match = false;
        foreach (var key in _keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return match;
    }
}

/// <summary><c>Authorization: Bearer &lt;api key&gt;</c>; a missing or unknown key is answered 401 with an <see cref="ApiError"/>.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStore keys,
    IOptions<JsonOptions> json) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var key = header.AsSpan(bearer.Length).Trim();
        if (key.IsEmpty || !keys.IsValid(key))
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "platform")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var message = Request.Headers.Authorization.Count == 0
            ? "An API key is required: Authorization: Bearer <key>."
            : "The API key is not valid.";
        await Response.WriteAsJsonAsync(new ApiError(ErrorCodes.Unauthorized, message), json.Value.SerializerOptions);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new ApiError("Forbidden", "The API key may not do this."), json.Value.SerializerOptions);
    }
}
