using Microsoft.Extensions.Options;
using Webinar.Contracts.Turn;

namespace Webinar.ControlPlane.Turn;

/// <summary>TURN relay settings (section <c>Turn</c>): the secret shared with coturn and the URLs clients use.</summary>
internal sealed class TurnOptions
{
    public const string Section = "Turn";

    /// <summary>coturn's <c>static-auth-secret</c> (WEBINAR_TURN_SECRET); without it attendees get no TURN servers.</summary>
    public string? Secret { get; set; }

    /// <summary>
    /// Space-separated TURN URLs (WEBINAR_TURN_URLS), e.g.
    /// <c>turn:turn.example:3478?transport=udp turn:turn.example:3478?transport=tcp turns:turn.example:5349?transport=tcp</c>.
    /// </summary>
    public string Urls { get; set; } = "";

    public IReadOnlyList<string> UrlList() =>
        Urls.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public bool Enabled => !string.IsNullOrEmpty(Secret) && UrlList().Count > 0;
}

/// <summary>
/// Mints an attendee's TURN credential. It expires exactly when the attendee's join token does, so a relay never
/// outlives the right to join; the node receives it inside the signed token and never holds the secret.
/// </summary>
internal sealed class TurnCredentialIssuer(IOptions<TurnOptions> options)
{
    public IReadOnlyList<IceServer> Issue(Guid attendeeId, DateTimeOffset tokenExpiresAt)
    {
        var o = options.Value;
        return o.Enabled ? [TurnCredentials.Mint(o.Secret!, o.UrlList(), attendeeId, tokenExpiresAt)] : [];
    }
}
