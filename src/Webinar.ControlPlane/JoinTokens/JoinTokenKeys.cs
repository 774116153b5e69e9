using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Webinar.Contracts.JoinTokens;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;
using Webinar.ControlPlane.Turn;
using Webinar.Contracts.Turn;

namespace Webinar.ControlPlane.JoinTokens;

/// <summary>One published verification key.</summary>
internal sealed record PublishedKey(string KeyId, ECDsa PublicKey);

/// <summary>
/// The signing key (from <see cref="JoinTokenOptions.PrivateKeyFile"/>, or generated and logged when none is
/// configured) and the public keys nodes may verify with: the signing key's plus any in
/// <see cref="JoinTokenOptions.PublicKeyFile"/> (earlier keys during a rotation).
/// </summary>
internal sealed class JoinTokenKeys
{
    public JoinTokenKeys(IOptions<JoinTokenOptions> options, ILogger<JoinTokenKeys> logger)
    {
        var o = options.Value;
        var signing = ECDsa.Create();
        if (!string.IsNullOrWhiteSpace(o.PrivateKeyFile))
        {
            signing.ImportFromPem(File.ReadAllText(o.PrivateKeyFile));
        }
        else
        {
            signing.GenerateKey(ECCurve.NamedCurves.nistP256);
            logger.EphemeralJoinTokenKey();
        }

        Signer = new JoinTokenSigner(signing);
        var keys = new List<PublishedKey>();
        var signingPublic = ECDsa.Create(signing.ExportParameters(false));
        keys.Add(new PublishedKey(Signer.KeyId, signingPublic));
        if (!string.IsNullOrWhiteSpace(o.PublicKeyFile) && File.Exists(o.PublicKeyFile))
        {
            foreach (var key in ReadPublicKeys(File.ReadAllText(o.PublicKeyFile)))
            {
                var id = JoinTokenVerifier.KeyIdOf(key);
                if (keys.TrueForAll(k => k.KeyId != id))
                {
                    keys.Add(new PublishedKey(id, key));
                }
            }
        }

        PublicKeys = keys;
        Pem = string.Concat(keys.Select(k => k.PublicKey.ExportSubjectPublicKeyInfoPem() + "\n"));
    }

    public JoinTokenSigner Signer { get; }

    public IReadOnlyList<PublishedKey> PublicKeys { get; }

    /// <summary>Every published key as PEM PUBLIC KEY blocks (what WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE holds).</summary>
    public string Pem { get; }

    private static IEnumerable<ECDsa> ReadPublicKeys(string pem)
    {
        const string begin = "-----BEGIN PUBLIC KEY-----";
        const string end = "-----END PUBLIC KEY-----";
        var start = pem.IndexOf(begin, StringComparison.Ordinal);
        while (start >= 0)
        {
            var stop = pem.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0)
            {
                yield break;
            }

            var key = ECDsa.Create();
            key.ImportFromPem(pem.AsSpan(start, stop + end.Length - start));
            yield return key;
            start = pem.IndexOf(begin, stop, StringComparison.Ordinal);
        }
    }
}

/// <summary>A join token and the TURN servers it carries (also returned to the platform beside the token).</summary>
internal sealed record IssuedJoinToken(string Token, IReadOnlyList<IceServer> IceServers);

/// <summary>Mints an attendee's join token with the configured lifetime, carrying TURN credentials that expire with it.</summary>
internal sealed class JoinTokenIssuer(JoinTokenKeys keys, TurnCredentialIssuer turn, IOptions<JoinTokenOptions> options)
{
    public IssuedJoinToken Issue(Guid meetingId, Guid attendeeId, string externalUserId, Guid? primaryMeetingId, Contracts.Meetings.AttendeeCapabilities capabilities, bool moderator, DateTimeOffset now)
    {
        var expires = now + options.Value.Lifetime;
        var iceServers = turn.Issue(attendeeId, expires);
        var token = keys.Signer.Sign(new JoinTokenClaims(meetingId, attendeeId, externalUserId, primaryMeetingId, capabilities, now, expires, iceServers, moderator));
        return new IssuedJoinToken(token, iceServers);
    }
}

/// <summary>GET /.well-known/webinar/join-token-keys (PEM) and /.well-known/jwks.json (RFC 7517), no API key.</summary>
internal static class JoinTokenKeyEndpoints
{
    public static IEndpointRouteBuilder MapJoinTokenKeys(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/webinar/join-token-keys", (JoinTokenKeys keys) => Results.Text(keys.Pem, "application/x-pem-file", Encoding.ASCII))
            .WithName("GetJoinTokenKeysPem")
            .WithTags("Join tokens")
            .AllowAnonymous();
        app.MapGet("/.well-known/jwks.json", (JoinTokenKeys keys) => TypedResults.Ok(new JsonWebKeySet(keys.PublicKeys.Select(ToJwk).ToList())))
            .WithName("GetJoinTokenJwks")
            .WithTags("Join tokens")
            .AllowAnonymous();
        return app;
    }

    private static JsonWebKey ToJwk(PublishedKey key)
    {
        var p = key.PublicKey.ExportParameters(false);
        return new JsonWebKey("EC", "P-256", System.Buffers.Text.Base64Url.EncodeToString(p.Q.X), System.Buffers.Text.Base64Url.EncodeToString(p.Q.Y), key.KeyId, "sig", JoinTokenFormatNames.Algorithm);
    }
}

internal static class JoinTokenFormatNames
{
    public const string Algorithm = "ES256";
}

#pragma warning disable SA1313, IDE1006 // JWK member names are lower-case by specification.
internal sealed record JsonWebKey(string kty, string crv, string x, string y, string kid, string use, string alg);

internal sealed record JsonWebKeySet(IReadOnlyList<JsonWebKey> keys);
#pragma warning restore SA1313, IDE1006
