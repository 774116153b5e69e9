using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.Replication;

/// <summary>
/// RabbitMQ only sets relays up: media already flowing between nodes keeps flowing while the broker is down, and what
/// changed meanwhile reaches the replicas once it is back, without anyone rejoining.
/// </summary>
public sealed class BrokerRestartTests(PrivateBrokerSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<PrivateBrokerSystemFixture>(system, chromium, output), IClassFixture<PrivateBrokerSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public Task Relayed_media_keeps_flowing_while_the_broker_is_down_and_a_presenter_who_published_meanwhile_reaches_the_replicas_once_it_is_back() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var europe = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var asia = await _system.Api.CreateMeetingAsync("ap-southeast-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var anna = await JoinAsync(europe, "anna-eu", "Receive");
        var mei = await JoinAsync(asia, "mei-ap", "Receive");
        await presenter.PublishAsync();
        var viewers = new[] { anna, mei };
        var frames = new long[viewers.Length];
        for (var i = 0; i < viewers.Length; i++)
        {
            frames[i] = await viewers[i].WaitForFramesOfAsync("presenter", 10, MediaTimeout, "the presenter over the relay");
        }

        // The broker goes away. For eight one-second windows, each replica audience keeps rendering: no two windows in a
        // row without a new frame, and frames in the last window. A relay that stopped with the broker shows as every window
        // empty from then on; one still second alone on a loaded 2-core machine running three nodes and three Chromium
        // pages is not that, and each window's count is printed to tell them apart. (Runs of empty windows here were the
        // node's probe padding landing inside frames: Consumer.TrySendPadding.)
        var guestAttendee = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "guest");
        await _system.PrivateBroker.StopAsync();
        var downAt = DateTime.UtcNow;
        var stillSeconds = new int[viewers.Length];
        const int Windows = 8;
        for (var window = 1; window <= Windows; window++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            for (var i = 0; i < viewers.Length; i++)
            {
                var now = await viewers[i].FramesRenderedOfAsync("presenter");
                _output.WriteLine($"broker down, second {window}: viewer {i} rendered {now - frames[i]} frames ({now} in all)");
                stillSeconds[i] = now > frames[i] ? 0 : stillSeconds[i] + 1;
                Assert.True(stillSeconds[i] < 2, $"viewer {i} rendered no new frame in seconds {window - 1} and {window} with the broker down ({now} frames)");
                Assert.True(window < Windows || now > frames[i], $"viewer {i} rendered no new frame in the last second with the broker down ({now} frames)");
                frames[i] = now;
            }
        }

        _output.WriteLine($"frames kept coming for {(DateTime.UtcNow - downAt).TotalSeconds:0.0} s with the broker down");

        // A second presenter joins the primary and publishes while the broker is still down (the node needs no broker
        // for that); then the broker comes back.
        var guest = await MeetingPage.OpenAsync(_chromium, _system.BaseAddress);
        Assert.Equal("joined:primary", await guest.JoinAsync(primary.SignalingUrl, guestAttendee.JoinToken));
        await guest.PublishAsync();
        await _system.PrivateBroker.StartAsync();
        var upAt = DateTime.UtcNow;

        foreach (var viewer in viewers)
        {
            await viewer.WaitForFramesOfAsync("guest", 10, TimeSpan.FromSeconds(45), "the second presenter once the broker is back");
        }

        _output.WriteLine($"the second presenter reached both replicas {(DateTime.UtcNow - upAt).TotalSeconds:0.0} s after the broker started again");
        for (var i = 0; i < viewers.Length; i++)
        {
            Assert.Null(await viewers[i].EndedReasonAsync());
            Assert.Contains("+video:guest", await viewers[i].StreamEventsAsync());
            Assert.Contains("+guest", await viewers[i].PresenceAsync());
            await viewers[i].WaitForFramesOfAsync("presenter", frames[i] + 10, MediaTimeout, "the first presenter to keep playing");
        }

        // The presenter saw the guest join its own meeting and receives the guest's camera.
        await presenter.WaitForFramesOfAsync("guest", 10, MediaTimeout, "the presenter to see the guest");
    });
}
