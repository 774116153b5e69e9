using System.Net;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Hosting;
using Webinar.ControlPlane.Tests.Infrastructure;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Tests.Webhooks;

/// <summary>Webhook URLs that point inside the network are refused by default: at CreateMeeting and at delivery.</summary>
public sealed class WebhookTargetTests(ControlPlaneFixture fixture) : IClassFixture<ControlPlaneFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.1.2.3/hooks")]
    [InlineData("http://172.16.0.1/hooks")]
    [InlineData("http://192.168.1.1/hooks")]
    [InlineData("http://100.64.0.1/hooks")]
    [InlineData("http://0.0.0.0/hooks")]
    [InlineData("http://[::1]/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]/hooks")]
    [InlineData("http://[fd00::1]/hooks")]
    [InlineData("http://[fe80::1]/hooks")]
    [InlineData("http://localhost:9000/hooks")]
    [InlineData("http://localhost./hooks")]
    [InlineData("http://api.localhost/hooks")]
    [InlineData("http://2130706433/hooks")]
    [InlineData("http://0x7f.1/hooks")]
    [InlineData("https://user:pass@example.com/hooks")]
    public async Task Create_meeting_refuses_a_webhook_url_inside_the_network(string url)
    {
        var response = await ApiClient.PostAsync(fixture.Client, "/meetings", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            MediaRegion = "us-east-1",
            NotificationsConfiguration = new { WebhookUrl = url },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("BadRequest", response.Code);
        Assert.Contains("WebhookUrl", response.Body.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://93.184.216.34/hooks")]
    [InlineData("https://platform.example.com/webinar-hooks")]
    [InlineData("http://[2606:2800:220:1:248:1893:25c8:1946]/hooks")]
    public async Task Create_meeting_accepts_a_public_webhook_url(string url)
    {
        var response = await ApiClient.PostAsync(fixture.Client, "/meetings", new
        {
            ClientRequestToken = Guid.NewGuid().ToString("N"),
            MediaRegion = "us-east-1",
            NotificationsConfiguration = new { WebhookUrl = url },
        });

        Assert.Equal(HttpStatusCode.Created, response.Status);
    }

    [Fact]
    public async Task A_delivery_whose_host_resolves_inside_the_network_is_never_sent_and_fails_at_once()
    {
        // A name that passed CreateMeeting (it was public then, say) and now resolves to loopback: the row is
        // queued as a meeting's would be, and the delivery connects only after checking the resolved address.
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.NewUrl().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        await fixture.QueryScalarAsync<int>(
            """
            INSERT INTO webhook_deliveries (platform_id, url, receiver, event_type, payload, created_at, next_attempt_at)
            VALUES ('default', @url, @receiver, 'MeetingStarted', '{"EventType":"MeetingStarted"}', now(), now())
            """,
            new { url, receiver = new Uri(url).GetLeftPart(UriPartial.Authority) });

        await ControlPlaneFixture.WaitUntilAsync(
            async () => await fixture.QueryScalarAsync<bool>("SELECT failed_at IS NOT NULL FROM webhook_deliveries WHERE url = @url", new { url }),
            TimeSpan.FromSeconds(30),
            "the delivery to a loopback address is given up");

        Assert.Empty(receiver.For(url));
        Assert.Equal(1, await fixture.QueryScalarAsync<int>("SELECT attempts FROM webhook_deliveries WHERE url = @url", new { url }));
        Assert.Contains("allowed webhook address", await fixture.QueryScalarAsync<string>("SELECT last_error FROM webhook_deliveries WHERE url = @url", new { url }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("192.168.0.10", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::a00:1", false)]
    [InlineData("2002:a00:1::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("2001:4860:4860::8888", true)]
    public void Addresses_are_allowed_only_when_public(string address, bool allowed)
    {
        var targets = new WebhookTargets(Options.Create(new WebhookOptions()));

        Assert.Equal(allowed, targets.IsAllowed(IPAddress.Parse(address)));
    }

    [Fact]
    public void The_allow_list_opens_only_its_networks_also_in_their_ipv6_mapped_form()
    {
        var targets = new WebhookTargets(Options.Create(new WebhookOptions { AllowedNetworks = "10.20.0.0/16 127.0.0.1/32" }));

        Assert.True(targets.IsAllowed(IPAddress.Parse("10.20.3.4")));
        Assert.True(targets.IsAllowed(IPAddress.Parse("::ffff:10.20.3.4")));
        Assert.True(targets.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(targets.IsAllowed(IPAddress.Parse("127.0.0.2")));
        Assert.False(targets.IsAllowed(IPAddress.Parse("10.21.0.1")));
        Assert.False(targets.IsAllowed(IPAddress.Parse("169.254.169.254")));
    }
}
