using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.ControlPlane.Tests.Infrastructure;
using Webinar.ControlPlane.Tests.Outbox;

namespace Webinar.ControlPlane.Tests.Idle;

/// <summary>A private broker, a 3-second idle timeout and a 6-second "gone" threshold: any outage here is far longer than both.</summary>
public sealed class OutageIdleFixture : PrivateBrokerFixture
{
    protected override int IdleTimeoutSeconds => 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Nodes:GoneAfter", "00:00:06"),
    ];
}

/// <summary>No news is never "idle".</summary>
public sealed class BrokerOutageIdleTests(OutageIdleFixture fixture) : IClassFixture<OutageIdleFixture>
{
    [Fact]
    public async Task A_broker_outage_longer_than_the_idle_timeout_deletes_no_meeting_with_connections()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        await fixture.Events.WaitForAsync<MeetingCreated>(e => e.MeetingId == meeting, TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();

        // The meeting's node keeps beating with one connection in it, through the outage (those beats are lost).
        var beats = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await fixture.HeartbeatAsync("node-outage", "us-east-1", 1, [new MeetingConnections(meeting, 1)])
                        .WaitAsync(TimeSpan.FromSeconds(2));
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    // The broker is down on purpose.
                }

                await Task.Delay(500).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(3));

        await fixture.StopBrokerNowAsync();
        try
        {
            // Five idle timeouts and more than twice the "gone" threshold without a single heartbeat arriving.
            await Task.Delay(TimeSpan.FromSeconds(15));
            Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        }
        finally
        {
            await fixture.StartBrokerNowAsync();
        }

        // Heartbeats flow again; the reaper sees the connection and keeps the meeting.
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<bool>("SELECT last_heartbeat_at > now() - interval '2 seconds' FROM nodes WHERE node_id = 'node-outage'"),
            TimeSpan.FromSeconds(90), "heartbeats arriving again");
        await Task.Delay(TimeSpan.FromSeconds(8));
        await stop.CancelAsync();
        await beats;

        Assert.Equal(System.Net.HttpStatusCode.OK, (await ApiClient.GetAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        Assert.Equal(0, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM outbox WHERE message_type = 'MeetingDeleted'"));
        Assert.Empty(fixture.Events.All<MeetingDeleted>(e => e.MeetingId == meeting));
    }
}
