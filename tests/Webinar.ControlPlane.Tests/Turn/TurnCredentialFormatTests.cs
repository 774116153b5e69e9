using Microsoft.Extensions.Time.Testing;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Turn;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Turn;

/// <summary>The TURN REST credential format and its journey inside the join token (coturn itself: the end-to-end TURN tests).</summary>
public sealed class TurnCredentialFormatTests
{
    private static readonly Guid Attendee = Guid.Parse("0196a1c4-5b7e-7c1d-9a53-0c1f3e0b8a11");

    [Fact]
    public void Username_is_expiry_colon_attendee_and_password_the_base64_hmac_sha1_of_it()
    {
        var credential = TurnCredentials.Mint("webinar-secret", ["turn:192.0.2.7:3478?transport=udp"], Attendee, DateTimeOffset.FromUnixTimeSeconds(1764673200));

        Assert.Equal("1764673200:0196a1c4-5b7e-7c1d-9a53-0c1f3e0b8a11", credential.Username);
        // openssl dgst -sha1 -hmac webinar-secret -binary | base64, over the username.
        Assert.Equal("QjL8iEFDCZ0Fx6QviLHXcH6q7nI=", credential.Credential);
    }

    [Fact]
    public void Ice_servers_travel_inside_the_signed_token_and_come_out_as_minted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var server = TurnCredentials.Mint("s", ["turn:192.0.2.7:3478?transport=udp", "turns:turn.example:5349?transport=tcp"], Attendee, now.AddHours(1));
        var token = new JoinTokenSigner(key).Sign(new JoinTokenClaims(Guid.NewGuid(), Attendee, "alice", null, AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1), [server]));

        Assert.Equal(JoinTokenError.None, Verifier(key).Verify(token, out var claims));
        var carried = Assert.Single(claims!.IceServers!);
        Assert.Equal(server.Urls, carried.Urls);
        Assert.Equal(server.Username, carried.Username);
        Assert.Equal(server.Credential, carried.Credential);
    }

    [Fact]
    public void A_token_without_ice_servers_still_verifies()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var token = new JoinTokenSigner(key).Sign(new JoinTokenClaims(Guid.NewGuid(), Attendee, "alice", null, AttendeeCapabilities.SendReceiveAll, now, now.AddHours(1)));

        Assert.Equal(JoinTokenError.None, Verifier(key).Verify(token, out var claims));
        Assert.Null(claims!.IceServers);
    }

    [Theory]
    [InlineData("\"ice\":{}")]
    [InlineData("\"ice\":[{\"urls\":[],\"u\":\"x\",\"p\":\"y\"}]")]
    [InlineData("\"ice\":[{\"urls\":[\"http://evil.example/\"],\"u\":\"x\",\"p\":\"y\"}]")]
    [InlineData("\"ice\":[{\"urls\":[\"turn:a:1\"],\"u\":1,\"p\":\"y\"}]")]
    [InlineData("\"ice\":[{\"urls\":[\"turn:a:1\"],\"u\":\"x\"}]")]
    public void A_signed_token_with_a_malformed_ice_claim_is_refused(string ice)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $"{{\"iss\":\"webinar-control-plane\",\"sub\":\"{Attendee}\",\"mid\":\"{Guid.NewGuid()}\",\"aid\":\"{Attendee}\",\"uid\":\"alice\",\"cap\":{{\"a\":\"SendReceive\",\"v\":\"SendReceive\",\"c\":\"SendReceive\"}},\"iat\":{now},\"exp\":{now + 3600},{ice}}}";
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"{JoinTokenVerifier.KeyIdOf(key)}\"}}"));
        var input = header + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload));
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.Equal(JoinTokenError.Malformed, Verifier(key).Verify(input + "." + Base64Url.EncodeToString(signature), out _));
    }

    private static JoinTokenVerifier Verifier(ECDsa key) =>
        new([ECDsa.Create(key.ExportParameters(false))], new FakeTimeProvider(DateTimeOffset.UtcNow));
}
