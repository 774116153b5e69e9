using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Api;

/// <summary>
/// <c>Authorization: Bearer &lt;api key&gt;</c>: the key names the platform the request acts for (the
/// <see cref="PlatformDirectory.PlatformClaim"/> claim); a missing or unknown key is answered 401 with an <see cref="ApiError"/>.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    PlatformDirectory platforms,
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
        if (key.IsEmpty || platforms.Authenticate(key) is not { } platform)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, platform.Id), new Claim(PlatformDirectory.PlatformClaim, platform.Id)], SchemeName);
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
