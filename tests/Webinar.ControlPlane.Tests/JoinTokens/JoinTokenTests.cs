using Microsoft.Extensions.Time.Testing;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.JoinTokens;

/// <summary>Tokens minted through the API, checked with <see cref="JoinTokenVerifier"/> as SFU nodes check them.</summary>
public sealed class JoinTokenTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Token_verifies_with_the_published_key_and_carries_the_attendee()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client);
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);
        var attendee = await ApiClient.CreateAttendeeAsync(_client, replica, "viewer-7");

        var verifier = await PublishedVerifierAsync(TimeProvider.System);
        var error = verifier.Verify(attendee.GetProperty("JoinToken").GetString(), out var claims);

        Assert.Equal(JoinTokenError.None, error);
        Assert.Equal(replica, claims!.MeetingId);
        Assert.Equal(primary, claims.PrimaryMeetingId);
        Assert.Equal(attendee.GetProperty("AttendeeId").GetGuid(), claims.AttendeeId);
        Assert.Equal("viewer-7", claims.ExternalUserId);
        Assert.Equal(AttendeeCapabilities.ReceiveAll, claims.Capabilities);
        Assert.Equal(TimeSpan.FromHours(24), claims.ExpiresAt - claims.IssuedAt);
    }

    [Fact]
    public async Task Jwks_publishes_the_same_key_as_the_pem()
    {
        var pem = await fixture.CreateAnonymousClient().GetStringAsync("/.well-known/webinar/join-token-keys");
        using var jwks = JsonDocument.Parse(await fixture.CreateAnonymousClient().GetStringAsync("/.well-known/jwks.json"));
        var jwk = jwks.RootElement.GetProperty("keys")[0];
        using var key = ECDsa.Create();
        key.ImportFromPem(pem);
        var q = key.ExportParameters(false).Q;

        Assert.Equal("EC", jwk.GetProperty("kty").GetString());
        Assert.Equal("ES256", jwk.GetProperty("alg").GetString());
        Assert.Equal(Base64Url.EncodeToString(q.X), jwk.GetProperty("x").GetString());
        Assert.Equal(Base64Url.EncodeToString(q.Y), jwk.GetProperty("y").GetString());
        Assert.Equal(JoinTokenVerifier.KeyIdOf(key), jwk.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task Expired_token_is_refused()
    {
        var token = await IssueAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(24).AddMinutes(2));

        Assert.Equal(JoinTokenError.Expired, (await PublishedVerifierAsync(clock)).Verify(token, out _));
    }

    [Fact]
    public async Task Token_with_a_tampered_payload_is_refused()
    {
        var parts = (await IssueAsync()).Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        var forged = payload.Replace("\"a\":\"SendReceive\"", "\"a\":\"None\"", StringComparison.Ordinal).Replace("\"uid\":\"", "\"uid\":\"x", StringComparison.Ordinal);
        Assert.NotEqual(payload, forged);
        var token = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(forged))}.{parts[2]}";

        Assert.Equal(JoinTokenError.BadSignature, (await PublishedVerifierAsync(TimeProvider.System)).Verify(token, out var claims));
        Assert.Null(claims);
    }

    [Fact]
    public async Task Token_with_a_tampered_signature_is_refused()
    {
        var parts = (await IssueAsync()).Split('.');
        var signature = Base64Url.DecodeFromChars(parts[2]);
        signature[10] ^= 0x01;
        var token = $"{parts[0]}.{parts[1]}.{Base64Url.EncodeToString(signature)}";

        Assert.Equal(JoinTokenError.BadSignature, (await PublishedVerifierAsync(TimeProvider.System)).Verify(token, out _));
    }

    [Fact]
    public async Task Token_is_refused_by_a_node_holding_another_key()
    {
        var token = await IssueAsync();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var verifier = JoinTokenVerifier.FromPem(other.ExportSubjectPublicKeyInfoPem(), TimeProvider.System);

        Assert.Equal(JoinTokenError.UnknownKey, verifier.Verify(token, out _));
    }

    [Fact]
    public async Task Token_signed_with_another_key_under_our_key_id_is_refused()
    {
        var parts = (await IssueAsync()).Split('.');
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = attacker.SignData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var token = $"{parts[0]}.{parts[1]}.{Base64Url.EncodeToString(signature)}";

        Assert.Equal(JoinTokenError.BadSignature, (await PublishedVerifierAsync(TimeProvider.System)).Verify(token, out _));
    }

    [Fact]
    public async Task Unsigned_alg_none_token_is_refused()
    {
        var parts = (await IssueAsync()).Split('.');
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("{\"alg\":\"none\",\"typ\":\"JWT\"}"));
        var verifier = await PublishedVerifierAsync(TimeProvider.System);

        Assert.Equal(JoinTokenError.UnsupportedAlgorithm, verifier.Verify($"{header}.{parts[1]}.{parts[2]}", out _));
        Assert.Equal(JoinTokenError.Malformed, verifier.Verify($"{header}.{parts[1]}.", out _));
    }

    private async Task<string> IssueAsync()
    {
        var meeting = await ApiClient.CreateMeetingAsync(_client);
        return (await ApiClient.CreateAttendeeAsync(_client, meeting, "presenter-1")).GetProperty("JoinToken").GetString()!;
    }

    private async Task<JoinTokenVerifier> PublishedVerifierAsync(TimeProvider time)
    {
        using var anonymous = fixture.CreateAnonymousClient();
        return JoinTokenVerifier.FromPem(await anonymous.GetStringAsync("/.well-known/webinar/join-token-keys"), time);
    }
}
