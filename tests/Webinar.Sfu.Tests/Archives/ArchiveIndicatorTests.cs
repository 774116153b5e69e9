using Webinar.Contracts.Archives;
using Webinar.Sfu.Archives;
using Webinar.Sfu.Tests.Infrastructure;

namespace Webinar.Sfu.Tests.Archives;

/// <summary>
/// The recording indicator a node shows its attendees follows the control plane and the node recording the archive,
/// never another node: a stop or failure reported in some other node's name leaves it on (attendees are not told
/// recording stopped while it goes on).
/// </summary>
public sealed class ArchiveIndicatorTests : IAsyncLifetime
{
    private readonly ControlPlaneNodeFixture _system = new();
    private RunningNode _node = null!;

    public async Task InitializeAsync()
    {
        await _system.InitializeAsync();
        var nodeId = "us-east-1-i" + Guid.NewGuid().ToString("N")[..6];
        _node = await _system.StartNodeAsync(nodeId, "us-east-1", realMedia: true);
        await _system.WaitForHealthyNodeAsync(nodeId);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _system.DisposeAsync();
    }

    [Fact]
    public async Task A_stop_or_failure_reported_by_a_node_other_than_the_recorder_leaves_the_indicator_on_and_the_recorders_stop_clears_it()
    {
        var control = _node.Service<ArchiveControl>();
        var meeting = Guid.NewGuid();
        var archive = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var settings = new ArchiveSettings("talk", ArchiveOutputMode.Composed, true, true, 1280, 720, ArchiveLayout.Grid, TimeSpan.FromMinutes(5));

        // The control plane starts an archive recorded by another node (this one shows the indicator to the meeting's
        // replica audience here).
        await _system.PublishAsync(new ArchiveStarted(archive, meeting, "recorder-node", settings, now));
        await WaitUntilAsync(() => control.RecordingOf(meeting) == archive, "the indicator to go on");

        await _system.PublishAsync(new ArchiveStopped(archive, meeting, ArchiveStopReasons.MaxDuration, now, "some-other-node"));
        await _system.PublishAsync(new ArchiveFailed(archive, meeting, "forged", now, "some-other-node"));
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            Assert.Equal(archive, control.RecordingOf(meeting));
        }

        await _system.PublishAsync(new ArchiveStopped(archive, meeting, ArchiveStopReasons.MaxDuration, now, "recorder-node"));
        await WaitUntilAsync(() => control.RecordingOf(meeting) is null, "the recorder's stop to clear the indicator");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting for " + what + ".");
            }

            await Task.Delay(50);
        }
    }
}
