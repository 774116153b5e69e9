using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Signaling;

/// <summary>A meeting holds at most 250 live connections, on the real node process.</summary>
public sealed class CapacityTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    [Fact]
    public Task The_251st_connection_to_a_meeting_is_refused_with_meeting_full() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var attendees = new List<ApiAttendee>();
        for (var batch = 0; batch < 3; batch++)
        {
            var count = batch < 2 ? 100 : 50;
            attendees.AddRange(await _system.Api.BatchCreateAttendeesAsync(meeting.MeetingId,
                Enumerable.Range(batch * 100, count).Select(i => $"viewer-{i:000}"), "Receive"));
        }

        Assert.Equal(250, attendees.Count);
        var sockets = await Task.WhenAll(attendees.Select(a => JoinOverWebSocketAsync(meeting.SignalingUrl, a.JoinToken)));
        try
        {
            Assert.All(sockets, s => Assert.Equal("joined", s.Outcome));

            // The control plane will not create a 251st attendee, so the 251st connection carries a token signed
            // with the platform's key for an attendee the node has never seen: the node still counts it.
            var now = DateTimeOffset.UtcNow;
            var extra = _system.Signer.Sign(new JoinTokenClaims(meeting.MeetingId, Guid.NewGuid(), "one-too-many", null,
                AttendeeCapabilities.ReceiveAll, now, now.AddHours(1)));
            var page = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
            Assert.Equal("meeting-full", await page.JoinAsync(meeting.SignalingUrl, extra));

            // A place frees when someone leaves.
            await sockets[0].Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            var retry = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
            var joined = "";
            for (var attempt = 0; attempt < 20 && joined != "joined:primary"; attempt++)
            {
                joined = await retry.JoinAsync(meeting.SignalingUrl, extra);
                if (joined != "joined:primary")
                {
                    await Task.Delay(250);
                    retry = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
                }
            }

            Assert.Equal("joined:primary", joined);
        }
        finally
        {
            foreach (var s in sockets)
            {
                s.Socket.Abort();
                s.Socket.Dispose();
            }
        }
    });

    private static async Task<(ClientWebSocket Socket, string Outcome)> JoinOverWebSocketAsync(string url, string token)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(url), CancellationToken.None);
        var join = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "join", token }));
        await socket.SendAsync(join, WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        using var frame = JsonDocument.Parse(buffer.AsMemory(0, received.Count));
        var type = frame.RootElement.GetProperty("type").GetString()!;
        return (socket, type == "error" ? frame.RootElement.GetProperty("code").GetString()! : type);
    }
}
