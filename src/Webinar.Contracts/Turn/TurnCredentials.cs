using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Webinar.Contracts.Turn;

/// <summary>
/// The shared-secret TURN credential scheme (coturn's <c>use-auth-secret</c>, the "TURN REST API" draft
/// draft-uberti-behave-turn-rest): username <c>"{expiry unix seconds}:{attendee id}"</c>, password
/// <c>base64(HMAC-SHA1(secret, username))</c>. The TURN server recomputes the password from the username and
/// refuses a username whose expiry has passed, so nothing is stored and a credential cannot outlive its expiry.
/// </summary>
public static class TurnCredentials
{
    public static string Username(DateTimeOffset expiresAt, Guid attendeeId) =>
        expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + ":" + attendeeId.ToString("D");

    public static string Password(string secret, string username) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username)));

    public static IceServer Mint(string secret, IReadOnlyList<string> urls, Guid attendeeId, DateTimeOffset expiresAt)
    {
        var username = Username(expiresAt, attendeeId);
        return new IceServer(urls, username, Password(secret, username));
    }
}
