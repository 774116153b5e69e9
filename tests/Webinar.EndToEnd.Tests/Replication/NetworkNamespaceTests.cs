using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>
/// The relay across a real network path: the primary's node and a replica's node in network namespaces of their own,
/// joined by a veth pair with netem delay, Chromium in the root namespace reaching each through its own veth.
/// </summary>
public sealed class NetworkNamespaceTests(NamespacedSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<NamespacedSystemFixture>(system, chromium, output), IClassFixture<NamespacedSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(25);

    [Fact]
    public Task An_audience_on_a_node_in_another_namespace_sees_and_hears_the_presenter_across_the_delayed_link() => _system.RunAsync(_output, async () =>
    {
        var rtt = await _system.MeasureRoundTripAsync();
        _output.WriteLine($"round trip between the nodes' namespaces (TCP handshake): {rtt:0.0} ms");
        if (_system.NetemError is null)
        {
            // The delay is really on the path the relay takes (40 ms each way).
            Assert.True(rtt >= 2 * NamespacedSystemFixture.DelayEachWay.TotalMilliseconds * 0.95, $"the link's round trip is {rtt:0.0} ms: netem is not in the path");
        }
        else
        {
            _output.WriteLine("netem was refused by this kernel, the link runs without added delay: " + _system.NetemError);
        }

        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        Assert.Contains(_system.PrimaryAddress, primary.SignalingUrl);
        Assert.Contains(_system.ReplicaAddress, europe.SignalingUrl);

        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        await presenter.PublishAsync();

        var first = await anna.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "the presenter's audio and video across the link");
        await anna.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 30 && r.AudioPacketsReceived > first.AudioPacketsReceived + 50,
            MediaTimeout, "audio and video to keep arriving");
        Assert.Equal(["+presenter"], await anna.PresenceAsync());

        // The relay link runs between the namespaces' addresses, not over loopback.
        Assert.NotEmpty(_system.NodeLog("eu-west-1", $"at {_system.PrimaryAddress}:"));
        foreach (var line in _system.NodeLog("eu-west-1", "Relay link"))
        {
            _output.WriteLine(line);
        }
    });
}
