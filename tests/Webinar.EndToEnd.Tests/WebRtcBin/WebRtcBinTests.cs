using System.Net.NetworkInformation;
using System.Net.Sockets;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Webinar.EndToEnd.Tests.WebRtcBin;

/// <summary>
/// Nodes on the machine's own address: libnice pins each host socket to its interface, so a webrtcbin peer reaches a
/// node only at an address of that interface, never at 127.0.0.1. Two regions: a primary and a replica on another node.
/// </summary>
public sealed class MachineAddressSystemFixture : WebinarSystemFixture
{
    public override IReadOnlyList<string> NodeRegions => ["us-east-1", "eu-west-1"];

    public static string MachineAddress { get; } = FindMachineAddress();

    protected override NodePlacement PlaceNode(string region) => new(MachineAddress, null);

    private static string FindMachineAddress()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                if (address.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    return address.Address.ToString();
                }
            }
        }

        throw new InvalidOperationException("The machine has no non-loopback IPv4 address for webrtcbin to reach.");
    }
}

/// <summary>
/// GStreamer webrtcbin 1.22 (libnice ICE, OpenSSL DTLS), a WebRTC stack nobody here wrote, with its stock settings:
/// max-bundle (later m-lines port 0 + a=bundle-only), an offer before its encoders made a frame (no a=ssrc), libnice
/// keepalives (Binding indications, no requests after nomination), and no transceiver direction changes.
/// </summary>
public sealed class WebRtcBinTests(MachineAddressSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<MachineAddressSystemFixture>(system, chromium, output), IClassFixture<MachineAddressSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(40);

    [Fact]
    public Task A_webrtcbin_presenter_reaches_a_webrtcbin_viewer_in_a_replica_for_over_a_minute_and_a_chromium_viewer_decodes_it() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);

        // The viewer offers before anything is published: its m-lines must keep their direction when streams arrive.
        var viewerToken = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "gst-viewer", "Receive");
        await using var viewer = await WebRtcBinPeer.JoinAsync("receive", replica.SignalingUrl, viewerToken.JoinToken);
        var presenterToken = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "gst-presenter");
        await using var presenter = await WebRtcBinPeer.JoinAsync("publish", primary.SignalingUrl, presenterToken.JoinToken);
        try
        {
            var first = await viewer.WaitForAsync(s => s.VideoFrames > 30 && s.AudioBuffers > 30, MediaTimeout, "media from the webrtcbin presenter");

            var chromiumViewer = await JoinAsync(replica, "chromium-viewer", "Receive");
            await chromiumViewer.WaitForAsync(r => r.FramesDecoded > 10 && r.AudioPacketsReceived > 20, MediaTimeout, "the webrtcbin presenter in Chromium");

            // Past the 30 s after which a consent check would have been due: both sessions stay, media keeps flowing.
            await Task.Delay(TimeSpan.FromSeconds(65));
            var later = viewer.Stats;
            var last = await viewer.WaitForAsync(s => s.VideoFrames > later.VideoFrames + 60 && s.AudioBuffers > later.AudioBuffers + 60,
                TimeSpan.FromSeconds(20), "media still flowing after a minute");
            Assert.True(last.VideoFrames > first.VideoFrames + 600, $"only {last.VideoFrames - first.VideoFrames} frames in over a minute");
            Assert.DoesNotContain(presenter.NodeFrames, f => f.StartsWith("disconnected", StringComparison.Ordinal) || f.StartsWith("close", StringComparison.Ordinal) || f.StartsWith("error", StringComparison.Ordinal));
            Assert.DoesNotContain(viewer.NodeFrames, f => f.StartsWith("disconnected", StringComparison.Ordinal) || f.StartsWith("close", StringComparison.Ordinal) || f.StartsWith("error", StringComparison.Ordinal));
        }
        catch
        {
            _output.WriteLine("--- webrtcbin presenter ---\n" + presenter.Log + "\n--- webrtcbin viewer ---\n" + viewer.Log);
            throw;
        }
    });

    [Fact]
    public Task A_webrtcbin_viewer_decodes_a_chromium_presenter() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(primary, "chromium-presenter");
        await presenter.PublishAsync();

        var token = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "gst-viewer", "Receive");
        await using var viewer = await WebRtcBinPeer.JoinAsync("receive", primary.SignalingUrl, token.JoinToken);
        try
        {
            await viewer.WaitForAsync(s => s.VideoFrames > 30 && s.AudioBuffers > 30, MediaTimeout, "the Chromium presenter's media");
        }
        catch
        {
            _output.WriteLine("--- webrtcbin viewer ---\n" + viewer.Log);
            throw;
        }
    });
}
