using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Webhooks;

/// <summary>
/// A control plane whose webhooks are signed with a known secret and retried quickly (base backoff 400 ms, at most
/// 4 attempts, 3 s request timeout), plus a real HTTP receiver on 127.0.0.1 standing in for the platform.
/// </summary>
public sealed class WebhookFixture : ControlPlaneFixture
{
    public const string Secret = "webhook-test-secret";
    public const int MaxAttempts = 4;
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(400);

    internal WebhookReceiver Receiver { get; private set; } = null!;

    /// <summary>Another receiver (another port, so another receiver for the per-receiver limit).</summary>
    internal WebhookReceiver OtherReceiver { get; private set; } = null!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Webhooks:SigningSecret", Secret),

        // The receivers listen on 127.0.0.1, which webhooks may not reach by default.
        new("Webhooks:AllowedNetworks", "127.0.0.0/8"),
        new("Webhooks:MaxAttempts", MaxAttempts.ToString(CultureInfo.InvariantCulture)),
        new("Webhooks:InitialBackoff", InitialBackoff.ToString("c", CultureInfo.InvariantCulture)),
        new("Webhooks:MaxBackoff", "00:00:10"),
        new("Webhooks:RequestTimeout", "00:00:03"),
        new("Webhooks:PollInterval", "00:00:00.100"),
        new("Webhooks:MaxConcurrentDeliveries", MaxConcurrentDeliveries.ToString(CultureInfo.InvariantCulture)),
        new("Webhooks:MaxConcurrentPerReceiver", MaxConcurrentPerReceiver.ToString(CultureInfo.InvariantCulture)),
    ];

    public const int MaxConcurrentDeliveries = 8;
    public const int MaxConcurrentPerReceiver = 2;

    public override async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        OtherReceiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        await OtherReceiver.DisposeAsync();
    }
}

public sealed class WebhookTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task First_connection_posts_MeetingStarted_and_every_join_and_leave_posts_the_attendee_event()
    {
        var url = Receiver.NewUrl();
        var (meeting, externalMeetingId) = await CreateMeetingAsync(url);
        var attendee = await CreateAttendeeAsync(meeting, "presenter-1");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var connection = Guid.NewGuid();

        await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter-1", "node-us-east-1", connection, DateTimeOffset.UtcNow));
        var afterJoin = await Receiver.WaitForAsync(url, 2);
        await fixture.Events.Bus.Publish(new AttendeeLeft(meeting, attendee, "presenter-1", "node-us-east-1", connection, "Left", DateTimeOffset.UtcNow));
        await Receiver.WaitForAsync(url, 3);
        await fixture.Events.Bus.Publish(new AttendeeJoined(meeting, attendee, "presenter-1", "node-us-east-1", Guid.NewGuid(), DateTimeOffset.UtcNow));
        var all = await Receiver.WaitForAsync(url, 4);
        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        await Task.Delay(1000);

        Assert.Equal(["AttendeeJoined", "MeetingStarted"], afterJoin.Select(r => r.EventType).Order());
        Assert.Equal(4, Receiver.For(url).Count);
        var started = Body(all.Single(r => r.EventType == "MeetingStarted"));
        Assert.Equal("MeetingStarted", started.GetProperty("EventType").GetString());
        Assert.Equal(meeting, started.GetProperty("MeetingId").GetGuid());
        Assert.Equal(externalMeetingId, started.GetProperty("ExternalMeetingId").GetString());
        Assert.False(started.TryGetProperty("AttendeeId", out _));
        var joins = all.Where(r => r.EventType == "AttendeeJoined").Select(Body).ToList();
        Assert.Equal(2, joins.Count);
        var left = Body(all.Single(r => r.EventType == "AttendeeLeft"));
        Assert.Equal("Left", left.GetProperty("Reason").GetString());
        foreach (var e in joins.Append(left))
        {
            Assert.Equal(meeting, e.GetProperty("MeetingId").GetGuid());
            Assert.Equal(externalMeetingId, e.GetProperty("ExternalMeetingId").GetString());
            Assert.Equal(attendee, e.GetProperty("AttendeeId").GetGuid());
            Assert.Equal("presenter-1", e.GetProperty("ExternalUserId").GetString());
        }

        foreach (var r in all)
        {
            Assert.Equal(r.EventType, Body(r).GetProperty("EventType").GetString());
            var time = Body(r).GetProperty("EventTime").GetDateTimeOffset();
            Assert.InRange(time, before, after);
        }
    }

    [Fact]
    public async Task DeleteAttendee_posts_AttendeeDeleted_and_DeleteMeeting_posts_MeetingEnded_with_reason_Api()
    {
        var url = Receiver.NewUrl();
        var (meeting, externalMeetingId) = await CreateMeetingAsync(url);
        var attendee = await CreateAttendeeAsync(meeting, "viewer-7");

        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}/attendees/{attendee}")).Status);
        var deleted = Body(Assert.Single(await Receiver.WaitForAsync(url, 1)));
        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        var received = await Receiver.WaitForAsync(url, 2);

        Assert.Equal("AttendeeDeleted", deleted.GetProperty("EventType").GetString());
        Assert.Equal(meeting, deleted.GetProperty("MeetingId").GetGuid());
        Assert.Equal(attendee, deleted.GetProperty("AttendeeId").GetGuid());
        Assert.Equal("viewer-7", deleted.GetProperty("ExternalUserId").GetString());
        var ended = received[1];
        Assert.Equal("MeetingEnded", ended.EventType);
        var body = Body(ended);
        Assert.Equal("MeetingEnded", body.GetProperty("EventType").GetString());
        Assert.Equal(meeting, body.GetProperty("MeetingId").GetGuid());
        Assert.Equal(externalMeetingId, body.GetProperty("ExternalMeetingId").GetString());
        Assert.Equal("Api", body.GetProperty("Reason").GetString());
    }

    [Fact]
    public async Task Meeting_without_webhook_url_queues_no_delivery()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        var attendee = await CreateAttendeeAsync(meeting, "viewer-1");
        var queuedBefore = await fixture.QueryScalarAsync<long>("SELECT count(*) FROM webhook_deliveries");

        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}/attendees/{attendee}");
        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}");

        Assert.Equal(queuedBefore, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task Signature_verifies_over_the_exact_body_with_the_secret_and_a_tampered_body_does_not()
    {
        var url = Receiver.NewUrl();
        var (meeting, _) = await CreateMeetingAsync(url);
        var attendee = await CreateAttendeeAsync(meeting, "presenter-2");
        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}/attendees/{attendee}");

        var received = Assert.Single(await Receiver.WaitForAsync(url, 1));

        Assert.NotNull(received.Signature);
        Assert.NotNull(received.Timestamp);
        var timestamp = long.Parse(received.Timestamp, CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(timestamp), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.True(Verifies(WebhookFixture.Secret, received.Timestamp, received.Body, received.Signature), "the signature does not verify");
        var tampered = received.Body.Replace(attendee.ToString(), Guid.NewGuid().ToString(), StringComparison.Ordinal);
        Assert.NotEqual(received.Body, tampered);
        Assert.False(Verifies(WebhookFixture.Secret, received.Timestamp, tampered, received.Signature));
        Assert.False(Verifies(WebhookFixture.Secret, (timestamp + 1).ToString(CultureInfo.InvariantCulture), received.Body, received.Signature));
        Assert.False(Verifies(ControlPlaneFixture.ApiKey, received.Timestamp, received.Body, received.Signature));
    }

    [Fact]
    public async Task Receiver_answering_500_twice_gets_the_same_delivery_three_times_with_growing_gaps()
    {
        var url = Receiver.NewUrl();
        Receiver.AnswerFirst(url, 500, 500);
        var (meeting, _) = await CreateMeetingAsync(url);
        var attendee = await CreateAttendeeAsync(meeting, "presenter-3");

        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}/attendees/{attendee}");
        var attempts = await Receiver.WaitForAsync(url, 3);
        await Task.Delay(WebhookFixture.InitialBackoff * 8);

        Assert.Equal(3, Receiver.For(url).Count);
        Assert.All(attempts, a => Assert.Equal(attempts[0].Body, a.Body));
        Assert.All(attempts, a => Assert.Equal("AttendeeDeleted", a.EventType));
        Assert.NotNull(attempts[0].DeliveryId);
        Assert.All(attempts, a => Assert.Equal(attempts[0].DeliveryId, a.DeliveryId));
        Assert.All(attempts, a => Assert.True(Verifies(WebhookFixture.Secret, a.Timestamp!, a.Body, a.Signature!)));
        var firstGap = attempts[1].ReceivedAt - attempts[0].ReceivedAt;
        var secondGap = attempts[2].ReceivedAt - attempts[1].ReceivedAt;
        Assert.True(firstGap >= WebhookFixture.InitialBackoff * 0.9, $"first retry after {firstGap}");
        Assert.True(secondGap >= WebhookFixture.InitialBackoff * 2 * 0.9, $"second retry after {secondGap}, first after {firstGap}");
        Assert.Equal(3, await fixture.QueryScalarAsync<int>(
            "SELECT attempts FROM webhook_deliveries WHERE url = @url AND delivered_at IS NOT NULL AND failed_at IS NULL", new { url }));
    }

    [Fact]
    public async Task Receiver_that_is_down_does_not_hold_back_other_meetings_and_its_delivery_stops_after_max_attempts()
    {
        var downUrl = $"http://127.0.0.1:{ClosedPort()}/hooks/down";
        var upUrl = Receiver.NewUrl();
        var (down, _) = await CreateMeetingAsync(downUrl);
        var (up, _) = await CreateMeetingAsync(upUrl);
        var downAttendee = await CreateAttendeeAsync(down, "presenter-4");
        var upAttendee = await CreateAttendeeAsync(up, "presenter-5");

        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{down}/attendees/{downAttendee}");
        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{up}/attendees/{upAttendee}");
        var upReceived = await Receiver.WaitForAsync(upUrl, 1);
        await ConditionAsync(
            async () => await fixture.QueryScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE url = @url AND failed_at IS NOT NULL)", new { url = downUrl }),
            "the failing delivery is given up");
        var attemptsAtGiveUp = await fixture.QueryScalarAsync<int>("SELECT attempts FROM webhook_deliveries WHERE url = @url", new { url = downUrl });
        await Task.Delay(WebhookFixture.InitialBackoff * 10);

        Assert.Equal(up, Body(Assert.Single(upReceived)).GetProperty("MeetingId").GetGuid());
        Assert.Equal(WebhookFixture.MaxAttempts, attemptsAtGiveUp);
        Assert.Equal(WebhookFixture.MaxAttempts, await fixture.QueryScalarAsync<int>("SELECT attempts FROM webhook_deliveries WHERE url = @url", new { url = downUrl }));
        Assert.NotNull(await fixture.QueryScalarAsync<string?>("SELECT last_error FROM webhook_deliveries WHERE url = @url", new { url = downUrl }));
    }

    [Fact]
    public async Task Receiver_that_hangs_does_not_hold_back_other_meetings_webhooks()
    {
        var slowUrl = Receiver.NewUrl();
        var fastUrl = Receiver.NewUrl();
        Receiver.Hang(slowUrl);
        var (slow, _) = await CreateMeetingAsync(slowUrl);
        var (fast, _) = await CreateMeetingAsync(fastUrl);
        var slowAttendee = await CreateAttendeeAsync(slow, "presenter-6");
        var fastAttendee = await CreateAttendeeAsync(fast, "presenter-7");

        try
        {
            await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{slow}/attendees/{slowAttendee}");
            await Receiver.WaitForAsync(slowUrl, 1);
            await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{fast}/attendees/{fastAttendee}");
            await Receiver.WaitForAsync(fastUrl, 1);

            // The hanging POST has not been given up yet (3 s request timeout): the other meeting's went out meanwhile.
            Assert.Equal(0, await fixture.QueryScalarAsync<int>("SELECT attempts FROM webhook_deliveries WHERE url = @url", new { url = slowUrl }));
        }
        finally
        {
            Receiver.Release(slowUrl);
        }
    }

    [Fact]
    public async Task A_receiver_that_hangs_with_many_deliveries_holds_only_its_own_slots()
    {
        var slowUrl = fixture.OtherReceiver.NewUrl();
        var fastUrl = Receiver.NewUrl();
        fixture.OtherReceiver.Hang(slowUrl);
        var (slow, _) = await CreateMeetingAsync(slowUrl);
        var (fast, _) = await CreateMeetingAsync(fastUrl);
        var many = WebhookFixture.MaxConcurrentDeliveries * 2;
        var batch = await ApiClient.PostAsync(fixture.Client, $"/meetings/{slow}/attendees?operation=batch-create",
            new { Attendees = Enumerable.Range(0, many).Select(i => new { ExternalUserId = $"viewer-{i}" }).ToArray() });
        var slowAttendees = batch.Body.GetProperty("Attendees").EnumerateArray().Select(a => a.GetProperty("AttendeeId").GetGuid()).ToList();
        var fastAttendee = await CreateAttendeeAsync(fast, "presenter-8");

        try
        {
            foreach (var attendee in slowAttendees)
            {
                await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{slow}/attendees/{attendee}");
            }

            await fixture.OtherReceiver.WaitForAsync(slowUrl, WebhookFixture.MaxConcurrentPerReceiver);
            await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{fast}/attendees/{fastAttendee}");
            await Receiver.WaitForAsync(fastUrl, 1);

            // Every hanging POST is still open (3 s request timeout, none answered or given up): the other
            // receiver's webhook went out meanwhile, and the hanging one never had more than its share.
            Assert.Equal(0, await fixture.QueryScalarAsync<int>("SELECT count(*) FROM webhook_deliveries WHERE url = @url AND attempts > 0", new { url = slowUrl }));
            Assert.Equal(WebhookFixture.MaxConcurrentPerReceiver, fixture.OtherReceiver.For(slowUrl).Count);
        }
        finally
        {
            fixture.OtherReceiver.Release(slowUrl);
        }
    }

    [Fact]
    public async Task Redirects_are_never_followed_and_count_as_a_failed_attempt()
    {
        var url = Receiver.NewUrl();
        var target = Receiver.NewUrl();
        Receiver.Redirect(url, target);
        var (meeting, _) = await CreateMeetingAsync(url);
        var attendee = await CreateAttendeeAsync(meeting, "presenter-9");

        await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}/attendees/{attendee}");
        await Receiver.WaitForAsync(url, 2);
        await ConditionAsync(
            async () => await fixture.QueryScalarAsync<int>("SELECT attempts FROM webhook_deliveries WHERE url = @url", new { url }) >= 2,
            "the redirected delivery is retried");

        Assert.Empty(Receiver.For(target));
        Assert.Equal("HTTP 302", await fixture.QueryScalarAsync<string?>("SELECT last_error FROM webhook_deliveries WHERE url = @url", new { url }));
        Assert.Null(await fixture.QueryScalarAsync<DateTime?>("SELECT delivered_at FROM webhook_deliveries WHERE url = @url", new { url }));
    }

    private static JsonElement Body(ReceivedWebhook r) => JsonDocument.Parse(r.Body).RootElement.Clone();

    private static bool Verifies(string secret, string timestamp, string body, string signature)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        var expected = Encoding.ASCII.GetBytes("sha256=" + Convert.ToHexStringLower(mac));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task ConditionAsync(Func<Task<bool>> condition, string what) =>
        ControlPlaneFixture.WaitUntilAsync(condition, TimeSpan.FromSeconds(30), what);

    private async Task<(Guid Meeting, string ExternalMeetingId)> CreateMeetingAsync(string webhookUrl)
    {
        var external = "webinar-" + Guid.NewGuid().ToString("N")[..8];
        var response = await ApiClient.PostAsync(fixture.Client, "/meetings", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            ExternalMeetingId = external,
            MediaRegion = "us-east-1",
            NotificationsConfiguration = new { WebhookUrl = webhookUrl },
        });
        Assert.True(response.Status == HttpStatusCode.Created, $"CreateMeeting answered {response.Status}: {response.Body}");
        return (response.Body.GetProperty("Meeting").GetProperty("MeetingId").GetGuid(), external);
    }

    private async Task<Guid> CreateAttendeeAsync(Guid meeting, string user) =>
        (await ApiClient.CreateAttendeeAsync(fixture.Client, meeting, user)).GetProperty("AttendeeId").GetGuid();
}
