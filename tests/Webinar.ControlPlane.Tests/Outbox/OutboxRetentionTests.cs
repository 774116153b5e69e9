using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Outbox;

/// <summary>A poison outbox row never stalls the rows after it; what has served its purpose is pruned.</summary>
public sealed class OutboxRetentionTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task An_undeserialisable_outbox_row_is_set_aside_and_the_events_after_it_are_published()
    {
        var poison = await fixture.QueryScalarAsync<long>(
            """INSERT INTO outbox (message_type, payload, created_at) VALUES ('MeetingCreated', '{"MeetingId": "not-a-guid"}', now()) RETURNING id""");

        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);

        await fixture.Events.WaitForAsync<MeetingCreated>(e => e.MeetingId == meeting, TimeSpan.FromSeconds(30));
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<bool>("SELECT failed_at IS NOT NULL FROM outbox WHERE id = @poison", new { poison }),
            TimeSpan.FromSeconds(15), "the poison row set aside");
        Assert.False(string.IsNullOrEmpty(await fixture.QueryScalarAsync<string>("SELECT last_error FROM outbox WHERE id = @poison", new { poison })));
        // Nothing waits behind the poison row: every pending row is published (read until none is pending, since the
        // control plane keeps writing rows of its own, each pending for the moment before it is published).
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL") == 0,
            TimeSpan.FromSeconds(15), "no outbox row left pending behind the poison row");
    }

    [Fact]
    public async Task Old_sent_outbox_rows_and_finished_webhook_deliveries_are_pruned_and_pending_ones_kept()
    {
        var oldSent = await fixture.QueryScalarAsync<long>(
            "INSERT INTO outbox (message_type, payload, created_at, sent_at) VALUES ('MeetingCreated', '{}', now() - interval '3 days', now() - interval '3 days') RETURNING id");
        var oldDelivered = await fixture.QueryScalarAsync<long>(
            """
            INSERT INTO webhook_deliveries (platform_id, url, receiver, event_type, payload, created_at, next_attempt_at, delivered_at)
            VALUES ('default', 'http://127.0.0.1:9/', 'http://127.0.0.1:9', 'MeetingEnded', '{}', now() - interval '30 days', now() - interval '30 days', now() - interval '30 days') RETURNING id
            """);
        var pending = await fixture.QueryScalarAsync<long>(
            """
            INSERT INTO webhook_deliveries (platform_id, url, receiver, event_type, payload, created_at, next_attempt_at)
            VALUES ('default', 'http://127.0.0.1:9/', 'http://127.0.0.1:9', 'MeetingEnded', '{}', now() - interval '30 days', now() + interval '1 day') RETURNING id
            """);

        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM outbox WHERE id = @oldSent", new { oldSent }) == 0
                && await fixture.QueryScalarAsync<long>("SELECT count(*) FROM webhook_deliveries WHERE id = @oldDelivered", new { oldDelivered }) == 0,
            TimeSpan.FromSeconds(30), "old rows pruned");
        Assert.Equal(1, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM webhook_deliveries WHERE id = @pending", new { pending }));
    }
}
