using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Webinar.Contracts.Turn;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Network;

/// <summary>
/// TURN credentials the control plane mints, put to a real coturn (Debian's turnserver, configured by infra/coturn) with
/// a small TURN client: a minted credential allocates a relay and may reach the node, anything forged or expired is
/// refused, and a credential stops working when its attendee's join token expires.
/// </summary>
[Collection(TurnCollection.Name)]
public sealed class TurnCredentialTests(TurnSystemFixture system, ITestOutputHelper output)
{
    [Fact]
    public Task CreateAttendee_returns_turn_servers_for_udp_tcp_and_tls_whose_credential_expires_with_the_join_token() => system.RunAsync(output, async () =>
    {
        var meeting = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(30));
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "turn-user");

        var server = Assert.Single(attendee.IceServers!);
        Assert.Equal(
            [$"turn:{system.TurnAddress}:3478?transport=udp", $"turn:{system.TurnAddress}:3478?transport=tcp", $"turns:{system.TurnAddress}:5349?transport=tcp"],
            server.Urls);
        var expires = TokenExpiry(attendee.JoinToken);
        Assert.Equal($"{expires}:{attendee.AttendeeId}", server.Username);
        Assert.Equal(TurnCredentials.Password(system.TurnSecret, server.Username), server.Credential);

        // The same servers travel inside the signed token, for the node's joined frame.
        using var payload = TokenPayload(attendee.JoinToken);
        var ice = Assert.Single(payload.RootElement.GetProperty("ice").EnumerateArray());
        Assert.Equal(server.Username, ice.GetProperty("u").GetString());
        Assert.Equal(server.Credential, ice.GetProperty("p").GetString());

        // BatchCreateAttendee gives each attendee its own.
        var batch = await system.Api.BatchCreateAttendeesAsync(meeting.MeetingId, ["batch-1", "batch-2"]);
        Assert.All(batch, a => Assert.Equal($"{TokenExpiry(a.JoinToken)}:{a.AttendeeId}", Assert.Single(a.IceServers!).Username));
    });

    [Fact]
    public Task Coturn_relays_to_the_node_with_a_minted_credential_and_refuses_forged_or_expired_ones() => system.RunAsync(output, async () =>
    {
        var meeting = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(30));
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "relay-user");
        var server = Assert.Single(attendee.IceServers!);
        var turn = new IPEndPoint(IPAddress.Parse(system.TurnAddress), system.TurnPort);
        var node = new IPEndPoint(IPAddress.Parse(system.NodeMediaAddress), system.Node("us-east-1").UdpPort);

        using (var valid = new TurnAllocation(turn, server.Username, server.Credential))
        {
            var allocated = await valid.AllocateAsync();
            output.WriteLine("minted: " + allocated);
            Assert.True(allocated.Success, allocated.ToString());
            Assert.Equal(system.TurnAddress, allocated.Relayed!.Address.ToString());

            // It relays to the SFU node, and nowhere else (coturn's allowed-peer-ip).
            var toNode = await valid.CreatePermissionAsync(node);
            Assert.True(toNode.Success, toNode.ToString());
            var elsewhere = await valid.CreatePermissionAsync(new IPEndPoint(IPAddress.Parse(TurnSystemFixture.MachineAddress), 5432));
            Assert.Equal(403, elsewhere.ErrorCode);
            await valid.ReleaseAsync();
        }

        // A password made with another secret.
        var forged = TurnCredentials.Password("not-the-secret", server.Username);
        Assert.Equal(401, await AllocateErrorAsync(turn, server.Username, forged));

        // The minted password under a username with a later expiry.
        var expires = long.Parse(server.Username.Split(':')[0], CultureInfo.InvariantCulture);
        var extended = $"{expires + 86_400}:{attendee.AttendeeId}";
        Assert.Equal(401, await AllocateErrorAsync(turn, extended, server.Credential));

        // Correctly signed with the real secret, but expired.
        var expired = TurnCredentials.Mint(system.TurnSecret, server.Urls, attendee.AttendeeId, DateTimeOffset.UtcNow.AddSeconds(-5));
        Assert.Equal(401, await AllocateErrorAsync(turn, expired.Username, expired.Credential));
    });

    [Fact]
    public Task A_credential_stops_working_when_the_attendee_join_token_expires() => system.RunAsync(output, async () =>
    {
        var meeting = await system.Api.CreateMeetingWhenPlacedAsync("us-east-1", TimeSpan.FromSeconds(30));
        var attendee = await system.Api.CreateAttendeeAsync(meeting.MeetingId, "expiring-user");
        var server = Assert.Single(attendee.IceServers!);
        var turn = new IPEndPoint(IPAddress.Parse(system.TurnAddress), system.TurnPort);
        var expires = DateTimeOffset.FromUnixTimeSeconds(TokenExpiry(attendee.JoinToken));
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.Zero, TurnSystemFixture.TokenLifetime);

        using (var before = new TurnAllocation(turn, server.Username, server.Credential))
        {
            var answer = await before.AllocateAsync();
            Assert.True(answer.Success, answer.ToString());
            await before.ReleaseAsync();
        }

        var wait = expires - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);
        output.WriteLine($"waiting {wait.TotalSeconds:0} s for the token to expire");
        await Task.Delay(wait);
        Assert.Equal(401, await AllocateErrorAsync(turn, server.Username, server.Credential));
    });

    private static async Task<int> AllocateErrorAsync(IPEndPoint turn, string username, string password)
    {
        using var allocation = new TurnAllocation(turn, username, password);
        var answer = await allocation.AllocateAsync();
        Assert.False(answer.Success, "coturn allocated with " + username);
        return answer.ErrorCode;
    }

    private static long TokenExpiry(string token)
    {
        using var payload = TokenPayload(token);
        return payload.RootElement.GetProperty("exp").GetInt64();
    }

    private static JsonDocument TokenPayload(string token) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]));
}
