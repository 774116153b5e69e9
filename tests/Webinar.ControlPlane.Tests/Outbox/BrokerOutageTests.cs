using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Outbox;

/// <summary>A control plane on a private RabbitMQ broker that the test stops and starts.</summary>
public class PrivateBrokerFixture : ControlPlaneFixture
{
    private readonly int _port = TestEnvironment.FreePortPair();

    protected override int RabbitPort => _port;

    protected override bool UsesOwnVirtualHost => false;

    public Task StopBrokerNowAsync() => TestEnvironment.RabbitAsync(_port, "stop");

    public Task StartBrokerNowAsync() => TestEnvironment.RabbitAsync(_port, "start");

    protected override Task StartBrokerAsync() => StartBrokerNowAsync();

    protected override async Task StopBrokerAsync()
    {
        await StopBrokerNowAsync();
        var data = Path.Combine(Environment.GetEnvironmentVariable("WEBINAR_DATA_DIR") ?? Path.Combine(TestEnvironment.RepoRoot, ".data"), $"rabbitmq-{_port}");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }
}

public sealed class BrokerOutageTests(PrivateBrokerFixture fixture) : IClassFixture<PrivateBrokerFixture>
{
    [Fact]
    public async Task Events_of_changes_made_while_the_broker_is_down_are_published_when_it_is_back()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client);
        await fixture.Events.WaitForAsync<MeetingCreated>(e => e.MeetingId == meeting, TimeSpan.FromSeconds(30));

        await fixture.StopBrokerNowAsync();
        var attendee = (await ApiClient.CreateAttendeeAsync(fixture.Client, meeting, "during-outage")).GetProperty("AttendeeId").GetGuid();
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(2, await fixture.QueryScalarAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NULL"));
        await fixture.StartBrokerNowAsync();

        var created = await fixture.Events.WaitForAsync<AttendeeCreated>(e => e.AttendeeId == attendee, TimeSpan.FromSeconds(90));
        var deleted = await fixture.Events.WaitForAsync<MeetingDeleted>(e => e.MeetingId == meeting, TimeSpan.FromSeconds(30));
        Assert.Equal("during-outage", created.ExternalUserId);
        Assert.Equal(MeetingDeletionReason.Api, deleted.Reason);
        // The publisher marks its batch sent in the transaction that read it, after the broker took the messages,
        // so a consumer may see them a moment before the rows say so.
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0,
            TimeSpan.FromSeconds(30), "every outbox row marked sent");
    }

    [Fact]
    public async Task Readiness_is_503_while_the_broker_is_down_and_200_when_it_is_back()
    {
        var anonymous = fixture.CreateAnonymousClient();

        // Another test of this class may have just restarted the broker: start from a connected bus.
        await ControlPlaneFixture.WaitUntilAsync(
            async () => (await anonymous.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.OK,
            TimeSpan.FromSeconds(90), "/readyz answering 200 before the outage");

        await fixture.StopBrokerNowAsync();
        try
        {
            await ControlPlaneFixture.WaitUntilAsync(
                async () => (await anonymous.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(60), "/readyz answering 503 during the outage");
        }
        finally
        {
            await fixture.StartBrokerNowAsync();
        }

        await ControlPlaneFixture.WaitUntilAsync(
            async () => (await anonymous.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.OK,
            TimeSpan.FromSeconds(90), "/readyz answering 200 once the broker is back");
    }
}
