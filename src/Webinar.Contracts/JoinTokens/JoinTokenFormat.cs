using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Turn;

namespace Webinar.Contracts.JoinTokens;

/// <summary>
/// The wire form of a join token: a compact JWS (RFC 7515) signed with ES256 (ECDSA P-256, SHA-256,
/// signature as r‖s). Header <c>{"alg":"ES256","typ":"JWT","kid":…}</c>; payload claims
/// <c>iss, sub, mid, aid, uid, pmid, cap{a,v,c}, role (moderators only), iat, exp</c> and, when TURN is configured,
/// <c>ice: [{urls: [...], u, p}]</c> (the attendee's TURN URLs, username and credential).
/// </summary>
internal static class JoinTokenFormat
{
    public const string Algorithm = "ES256";
    public const string Issuer = "webinar-control-plane";
    public const string ModeratorRole = "moderator";

    public static string KeyId(ECDsa key)
    {
        // RFC 7638-style thumbprint of the public key, shortened: stable for one key, distinct across keys.
        var p = key.ExportParameters(false);
        var json = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64Url.EncodeToString(p.Q.X)}\",\"y\":\"{Base64Url.EncodeToString(p.Q.Y)}\"}}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(json));
        return Base64Url.EncodeToString(hash.AsSpan(0, 12));
    }

    public static string Capability(MediaCapability c) => c.ToString();

    public static bool TryParseCapability(string? s, out MediaCapability c) =>
        Enum.TryParse(s, ignoreCase: false, out c) && Enum.IsDefined(c);
}

/// <summary>Mints join tokens. Only the control plane holds the private key.</summary>
public sealed class JoinTokenSigner
{
    private readonly ECDsa _privateKey;
    private readonly string _header;

    public JoinTokenSigner(ECDsa privateKey)
    {
        if (privateKey.KeySize != 256)
        {
            throw new ArgumentException("Join tokens are signed with a P-256 key.", nameof(privateKey));
        }

        _privateKey = privateKey;
        KeyId = JoinTokenFormat.KeyId(privateKey);
        _header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = JoinTokenFormat.Algorithm,
            ["typ"] = "JWT",
            ["kid"] = KeyId,
        }));
    }

    public string KeyId { get; }

    public string Sign(JoinTokenClaims claims)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("iss", JoinTokenFormat.Issuer);
            w.WriteString("sub", claims.AttendeeId);
            w.WriteString("mid", claims.MeetingId);
            w.WriteString("aid", claims.AttendeeId);
            w.WriteString("uid", claims.ExternalUserId);
            if (claims.PrimaryMeetingId is { } pmid)
            {
                w.WriteString("pmid", pmid);
            }

            w.WriteStartObject("cap");
            w.WriteString("a", JoinTokenFormat.Capability(claims.Capabilities.Audio));
            w.WriteString("v", JoinTokenFormat.Capability(claims.Capabilities.Video));
            w.WriteString("c", JoinTokenFormat.Capability(claims.Capabilities.Content));
            w.WriteEndObject();
            if (claims.IsModerator)
            {
                w.WriteString("role", JoinTokenFormat.ModeratorRole);
            }
            w.WriteNumber("iat", claims.IssuedAt.ToUnixTimeSeconds());
            w.WriteNumber("exp", claims.ExpiresAt.ToUnixTimeSeconds());
            if (claims.IceServers is { Count: > 0 } servers)
            {
                w.WriteStartArray("ice");
                foreach (var server in servers)
                {
                    w.WriteStartObject();
                    w.WriteStartArray("urls");
                    foreach (var url in server.Urls)
                    {
                        w.WriteStringValue(url);
                    }

                    w.WriteEndArray();
                    w.WriteString("u", server.Username);
                    w.WriteString("p", server.Credential);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        var signingInput = _header + "." + Base64Url.EncodeToString(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        var signature = _privateKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }
}

/// <summary>
/// Checks join tokens with public keys only, as SFU nodes do. Accepts several keys so that a key can be rotated.
/// </summary>
public sealed class JoinTokenVerifier
{
    private const int MaxTokenLength = 4096;
    private const int MaxIceServers = 8;

    /// <summary>How far past <c>exp</c> (and before <c>nbf</c>) a token is still accepted.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, ECDsa> _keys;
    private readonly TimeProvider _time;

    public JoinTokenVerifier(IEnumerable<ECDsa> publicKeys, TimeProvider time)
    {
        _keys = publicKeys.ToDictionary(JoinTokenFormat.KeyId);
        _time = time;
    }

    /// <summary>The key id (<c>kid</c>) tokens signed with the matching private key carry.</summary>
    public static string KeyIdOf(ECDsa publicKey) => JoinTokenFormat.KeyId(publicKey);

    /// <summary>Reads a verifier's keys from PEM text holding one or more <c>PUBLIC KEY</c> blocks.</summary>
    public static JoinTokenVerifier FromPem(string pem, TimeProvider time)
    {
        var keys = new List<ECDsa>();
        const string begin = "-----BEGIN PUBLIC KEY-----";
        const string end = "-----END PUBLIC KEY-----";
        var start = pem.IndexOf(begin, StringComparison.Ordinal);
        while (start >= 0)
        {
            var stop = pem.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0)
            {
                break;
            }

            var key = ECDsa.Create();
            key.ImportFromPem(pem.AsSpan(start, stop + end.Length - start));
            keys.Add(key);
            start = pem.IndexOf(begin, stop, StringComparison.Ordinal);
        }

        if (keys.Count == 0)
        {
            throw new ArgumentException("No PUBLIC KEY block found for join token verification.", nameof(pem));
        }

        return new JoinTokenVerifier(keys, time);
    }

    public JoinTokenError Verify(string? token, out JoinTokenClaims? claims)
    {
        claims = null;
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return JoinTokenError.Malformed;
        }

        var firstDot = token.IndexOf('.');
        var secondDot = firstDot < 0 ? -1 : token.IndexOf('.', firstDot + 1);
        if (firstDot <= 0 || secondDot <= firstDot + 1 || secondDot == token.Length - 1 || token.IndexOf('.', secondDot + 1) >= 0)
        {
            return JoinTokenError.Malformed;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(token.AsSpan(0, firstDot)));
            if (header.RootElement.ValueKind != JsonValueKind.Object
                || !header.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String)
            {
                return JoinTokenError.Malformed;
            }

            if (alg.GetString() != JoinTokenFormat.Algorithm)
            {
                return JoinTokenError.UnsupportedAlgorithm;
            }

            if (!header.RootElement.TryGetProperty("kid", out var kid) || kid.ValueKind != JsonValueKind.String)
            {
                return JoinTokenError.Malformed;
            }

            if (!_keys.TryGetValue(kid.GetString()!, out var key))
            {
                return JoinTokenError.UnknownKey;
            }

            var signature = Base64Url.DecodeFromChars(token.AsSpan(secondDot + 1));
            var signingInput = Encoding.ASCII.GetBytes(token, 0, secondDot);
            if (signature.Length != 64
                || !key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return JoinTokenError.BadSignature;
            }

            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(token.AsSpan(firstDot + 1, secondDot - firstDot - 1)));
            if (!TryReadClaims(payload.RootElement, out var parsed))
            {
                return JoinTokenError.Malformed;
            }

            var now = _time.GetUtcNow();
            if (parsed.IssuedAt - ClockSkew > now)
            {
                return JoinTokenError.NotYetValid;
            }

            if (parsed.ExpiresAt + ClockSkew <= now)
            {
                return JoinTokenError.Expired;
            }

            claims = parsed;
            return JoinTokenError.None;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException or CryptographicException or InvalidOperationException)
        {
            return JoinTokenError.Malformed;
        }
    }

    private static bool TryReadClaims(JsonElement p, out JoinTokenClaims claims)
    {
        claims = null!;
        if (p.ValueKind != JsonValueKind.Object
            || !p.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || iss.GetString() != JoinTokenFormat.Issuer
            || !TryGuid(p, "mid", out var mid)
            || !TryGuid(p, "aid", out var aid)
            || !p.TryGetProperty("uid", out var uid) || uid.ValueKind != JsonValueKind.String
            || !p.TryGetProperty("cap", out var cap) || cap.ValueKind != JsonValueKind.Object
            || !TryCapability(cap, "a", out var audio) || !TryCapability(cap, "v", out var video) || !TryCapability(cap, "c", out var content)
            || !p.TryGetProperty("iat", out var iat) || !iat.TryGetInt64(out var iatSeconds)
            || !p.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var expSeconds)
            || iatSeconds < 0 || expSeconds < 0 || iatSeconds > 253402300799 || expSeconds > 253402300799)
        {
            return false;
        }

        Guid? pmid = null;
        if (p.TryGetProperty("pmid", out var pm) && pm.ValueKind != JsonValueKind.Null)
        {
            if (!TryGuid(p, "pmid", out var primary))
            {
                return false;
            }

            pmid = primary;
        }

        IReadOnlyList<IceServer>? ice = null;
        if (p.TryGetProperty("ice", out var iceElement) && !TryReadIceServers(iceElement, out ice))
        {
            return false;
        }

        claims = new JoinTokenClaims(
            mid,
            aid,
            uid.GetString()!,
            pmid,
            new AttendeeCapabilities(audio, video, content),
            DateTimeOffset.FromUnixTimeSeconds(iatSeconds),
            DateTimeOffset.FromUnixTimeSeconds(expSeconds),
            ice,
            p.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.GetString() == JoinTokenFormat.ModeratorRole);
        return true;
    }

    private static bool TryReadIceServers(JsonElement e, out IReadOnlyList<IceServer>? servers)
    {
        servers = null;
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() > MaxIceServers)
        {
            return false;
        }

        var list = new List<IceServer>(e.GetArrayLength());
        foreach (var s in e.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Object
                || !s.TryGetProperty("urls", out var urls) || urls.ValueKind != JsonValueKind.Array || urls.GetArrayLength() is 0 or > MaxIceServers
                || !s.TryGetProperty("u", out var u) || u.ValueKind != JsonValueKind.String
                || !s.TryGetProperty("p", out var pw) || pw.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            var urlList = new List<string>(urls.GetArrayLength());
            foreach (var url in urls.EnumerateArray())
            {
                if (url.ValueKind != JsonValueKind.String || url.GetString() is not { } text
                    || !(text.StartsWith("turn:", StringComparison.Ordinal) || text.StartsWith("turns:", StringComparison.Ordinal) || text.StartsWith("stun:", StringComparison.Ordinal)))
                {
                    return false;
                }

                urlList.Add(text);
            }

            list.Add(new IceServer(urlList, u.GetString()!, pw.GetString()!));
        }

        servers = list;
        return true;
    }

    private static bool TryGuid(JsonElement o, string name, out Guid value)
    {
        value = default;
        return o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String && Guid.TryParse(e.GetString(), out value);
    }

    private static bool TryCapability(JsonElement o, string name, out MediaCapability value)
    {
        value = default;
        return o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String && JoinTokenFormat.TryParseCapability(e.GetString(), out value);
    }
}
