using System.Globalization;
using Webinar.TestSupport.Browser;

namespace Webinar.TestSupport.Systems;

/// <summary>
/// The system in the root namespace (a primary's region and a replica's) plus a viewer's machine: a network namespace
/// of its own joined to the root by a veth pair (root end <see cref="HostAddress"/>, viewer end
/// <see cref="ViewerAddress"/>), where a second Chromium runs. Nothing is special-cased for it: the nodes take their
/// default media addresses (every address of the machine, the veth's among them), signalling and the control plane
/// listen on every address and announce <see cref="HostAddress"/>, and the viewer reaches them the way another host
/// on the LAN would. Everything is removed when the fixture is disposed. Needs root.
/// </summary>
public sealed class ViewerNamespaceSystemFixture : WebinarSystemFixture
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..5];
    private readonly int _octet = Random.Shared.Next(100, 250);
    private string? _launcherDirectory;
    private bool _namespaceAdded;

    public override IReadOnlyList<string> NodeRegions => ["us-east-1", "eu-west-1"];

    public string ViewerNamespace => $"webinar-{_id}-viewer";

    /// <summary>The root namespace's end of the viewer's link: the node's and control plane's address for the viewer.</summary>
    public string HostAddress => $"10.{_octet}.9.1";

    public string ViewerAddress => $"10.{_octet}.9.2";

    /// <summary>The demo as the viewer opens it.</summary>
    public Uri ViewerBaseAddress => new($"http://{HostAddress}:{HttpPort}");

    /// <summary>Starts a Chromium inside the viewer's namespace (ordinary flags, the same as every other test's).</summary>
    public Task<ChromiumFixture> LaunchViewerChromiumAsync()
    {
        _launcherDirectory ??= Directory.CreateTempSubdirectory("webinar-viewer-chromium-").FullName;
        var launcher = Path.Combine(_launcherDirectory, "chromium-in-namespace");
        File.WriteAllText(launcher, $"#!/bin/sh\nexec ip netns exec {ViewerNamespace} {Chromium.ExecutablePath} \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return ChromiumFixture.LaunchThroughAsync(launcher);
    }

    /// <summary>Drops every UDP datagram the viewer's machine sends (iptables in its namespace), or lets them through again.</summary>
    public Task BlockViewerUdpAsync(bool block) => RepositoryTools.RunAsync("ip",
        ["netns", "exec", ViewerNamespace, "iptables", block ? "-A" : "-D", "OUTPUT", "-p", "udp", "!", "-o", "lo", "-j", "DROP"], null);

    /// <summary>
    /// Limits what reaches the viewer's machine to <paramref name="kilobits"/> per second (tc tbf on the root end of its
    /// veth, a 200 ms queue, as a narrow access link would), or lifts the limit with null. This kernel has tbf, not netem.
    /// </summary>
    public async Task LimitViewerDownlinkAsync(int? kilobits)
    {
        var device = $"wb{_id}rv";
        if (kilobits is not { } rate)
        {
            await RepositoryTools.RunAsync("tc", ["qdisc", "del", "dev", device, "root"], null);
            return;
        }

        await RepositoryTools.RunAsync("tc", ["qdisc", "replace", "dev", device, "root", "tbf", "rate", $"{rate}kbit",
            "burst", "4kb", "latency", "200ms"], null);
    }

    protected override void ConfigureNode(string region, IDictionary<string, string> environment)
    {
        environment["WEBINAR_SFU_LISTEN_ADDRESS"] = "0.0.0.0";
        environment["WEBINAR_SFU_ANNOUNCED_IP"] = HostAddress;
    }

    protected override void ConfigureControlPlane(IDictionary<string, string> environment) =>
        environment["Http__ListenAddress"] = "0.0.0.0";

    protected override async Task PrepareNetworkAsync()
    {
        string ns = ViewerNamespace, rootEnd = $"wb{_id}rv", viewerEnd = $"wb{_id}vr";
        await Ip("netns", "add", ns);
        _namespaceAdded = true;
        await Ip("-n", ns, "link", "set", "lo", "up");
        await Ip("link", "add", rootEnd, "type", "veth", "peer", "name", viewerEnd);
        await Ip("link", "set", viewerEnd, "netns", ns);
        await Ip("addr", "add", HostAddress + "/30", "dev", rootEnd);
        await Ip("link", "set", rootEnd, "up");
        await Ip("-n", ns, "addr", "add", ViewerAddress + "/30", "dev", viewerEnd);
        await Ip("-n", ns, "link", "set", viewerEnd, "up");
        await Ip("-n", ns, "route", "add", "default", "via", HostAddress);
    }

    protected override async Task CleanUpNetworkAsync()
    {
        if (_namespaceAdded)
        {
            try
            {
                var pids = await RepositoryTools.RunAsync("ip", ["netns", "pids", ViewerNamespace], null);
                foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    await RepositoryTools.RunAsync("kill", ["-9", pid], null);
                }
            }
            catch (InvalidOperationException)
            {
                // Gone already.
            }

            try
            {
                // The veth goes with the namespace.
                await Ip("netns", "del", ViewerNamespace);
            }
            catch (InvalidOperationException)
            {
                // Gone already.
            }

            _namespaceAdded = false;
        }

        if (_launcherDirectory is not null)
        {
            Directory.Delete(_launcherDirectory, recursive: true);
            _launcherDirectory = null;
        }
    }

    private static Task<string> Ip(params string[] args) => RepositoryTools.RunAsync("ip", args, null);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"viewer {ViewerAddress} in {ViewerNamespace}");
}
