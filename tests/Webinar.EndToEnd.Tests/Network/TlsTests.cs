using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Network;

/// <summary>
/// The control plane's API and the node's signalling over TLS, with the certificate infra/dev-certs issues: TLS 1.3
/// only, an RSA key of at least 3072 bits, a chain to the development CA; signalling URLs are wss://.
/// </summary>
[Collection(TurnCollection.Name)]
public sealed class TlsTests(TurnSystemFixture system, ITestOutputHelper output)
{
    [Fact]
    public Task The_api_answers_over_tls_1_3_with_a_3072_bit_certificate_of_the_development_ca_and_refuses_tls_1_2() => system.RunAsync(output, async () =>
    {
        await AssertTlsPolicyAsync(TurnSystemFixture.MachineAddress, system.HttpsPort);

        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = ClientOptions(TurnSystemFixture.MachineAddress, SslProtocols.Tls13) }) { BaseAddress = new Uri($"https://{TurnSystemFixture.MachineAddress}:{system.HttpsPort}/") };
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz"));
        http.DefaultRequestHeaders.Authorization = new("Bearer", system.ApiKey);
        using var created = await http.PostAsync("/meetings", new StringContent(
            JsonSerializer.Serialize(new { ClientRequestToken = Guid.NewGuid().ToString(), MediaRegion = "us-east-1" }), Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        using var meeting = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal($"wss://{system.NodeSignalingAddress}:{system.WssPort}/signal",
            meeting.RootElement.GetProperty("Meeting").GetProperty("MediaPlacement").GetProperty("SignalingUrl").GetString());
    });

    [Fact]
    public Task Signalling_answers_over_tls_1_3_only_and_joined_carries_the_attendee_turn_servers() => system.RunAsync(output, async () =>
    {
        await AssertTlsPolicyAsync(system.NodeSignalingAddress, system.WssPort);

        var meeting = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(30));
        Assert.StartsWith("wss://", meeting.SignalingUrl);
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "wss-user");

        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => ChainsToCa(certificate);
        await socket.ConnectAsync(new Uri(meeting.SignalingUrl), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "join", token = attendee.JoinToken })), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        using var joined = JsonDocument.Parse(buffer.AsMemory(0, received.Count));
        Assert.Equal("joined", joined.RootElement.GetProperty("type").GetString());
        var server = Assert.Single(joined.RootElement.GetProperty("iceServers").EnumerateArray());
        var expected = Assert.Single(attendee.IceServers!);
        Assert.Equal(expected.Urls, server.GetProperty("urls").EnumerateArray().Select(u => u.GetString()!).ToArray());
        Assert.Equal(expected.Username, server.GetProperty("username").GetString());
        Assert.Equal(expected.Credential, server.GetProperty("credential").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    });

    private async Task AssertTlsPolicyAsync(string host, int port)
    {
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(host, port);
            await using var tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(ClientOptions(host, SslProtocols.Tls13 | SslProtocols.Tls12));
            Assert.Equal(SslProtocols.Tls13, tls.SslProtocol);
            using var certificate = new X509Certificate2(tls.RemoteCertificate!);
            using var rsa = certificate.GetRSAPublicKey();
            Assert.NotNull(rsa);
            Assert.True(rsa.KeySize >= 3072, $"the server key has {rsa.KeySize} bits");
            output.WriteLine($"{host}:{port}: {tls.SslProtocol} {tls.NegotiatedCipherSuite}, {certificate.Subject}, RSA-{rsa.KeySize}");
        }

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(host, port);
            await using var tls = new SslStream(tcp.GetStream());
            var refused = await Record.ExceptionAsync(() => tls.AuthenticateAsClientAsync(ClientOptions(host, SslProtocols.Tls12)));
            Assert.True(refused is AuthenticationException or IOException, $"a TLS 1.2 client was not refused: {refused}");
        }
    }

    private SslClientAuthenticationOptions ClientOptions(string host, SslProtocols protocols) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = protocols,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => ChainsToCa(certificate) && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0,
    };

    /// <summary>The certificate chains to the fixture's development CA, trusted on its own (not the system store).</summary>
    private bool ChainsToCa(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(system.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
