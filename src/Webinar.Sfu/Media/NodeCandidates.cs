using System.Globalization;
using System.Net;
using Webinar.Media.Sdp;

namespace Webinar.Sfu.Media;

/// <summary>
/// The node's ICE candidates, the same in every answer: a host UDP candidate per listen address, then a passive host
/// TCP candidate per address (RFC 6544 §4.5). Priorities follow RFC 8445 §5.1.2.1 (type preference 126 for host) with
/// a local preference that puts every UDP candidate above every TCP one and, within a protocol, a machine's real
/// addresses above loopback, so a client picks TCP only when no UDP pair works.
/// </summary>
internal sealed class NodeCandidates
{
    private const uint HostTypePreference = 126;

    private NodeCandidates(IReadOnlyList<SdpCandidate> all, IPAddress defaultAddress, int defaultPort)
    {
        All = all;
        DefaultAddress = defaultAddress;
        DefaultPort = defaultPort;
    }

    public IReadOnlyList<SdpCandidate> All { get; }

    /// <summary>The address and port of the c= and m= lines: the first non-loopback UDP candidate.</summary>
    public IPAddress DefaultAddress { get; }

    public int DefaultPort { get; }

    public static NodeCandidates Build(IReadOnlyList<UdpMediaSocket> udp, IReadOnlyList<(MediaListenAddress Address, IPEndPoint EndPoint)> tcp)
    {
        var all = new List<SdpCandidate>();
        var foundation = 0;
        for (var i = 0; i < udp.Count; i++)
        {
            var socket = udp[i];
            all.Add(new SdpCandidate(Foundation(++foundation), 1, "udp", Priority(udp: true, socket.Address.IsLoopback, i),
                socket.Address.Announced.ToString(), socket.LocalEndPoint.Port, "host"));
        }

        for (var i = 0; i < tcp.Count; i++)
        {
            var (address, endPoint) = tcp[i];
            all.Add(new SdpCandidate(Foundation(++foundation), 1, "tcp", Priority(udp: false, address.IsLoopback, i),
                address.Announced.ToString(), endPoint.Port, "host", "tcptype passive"));
        }

        // Order by priority, so readers (and the c= line) see the preferred candidate first.
        all.Sort((a, b) => b.Priority.CompareTo(a.Priority));
        var first = all.Find(c => c.Transport == "udp") ?? all[0];
        return new NodeCandidates(all, IPAddress.Parse(first.Address), first.Port);
    }

    /// <summary>(2^24)·type + (2^8)·local + (256 − component), component 1.</summary>
    public static uint Priority(bool udp, bool loopback, int index)
    {
        var local = (udp ? 0x8000u : 0x2000u) + (loopback ? 0u : 0x1000u) - (uint)Math.Min(index, 0xFFF);
        return (HostTypePreference << 24) | (local << 8) | 255;
    }

    private static string Foundation(int n) => n.ToString(CultureInfo.InvariantCulture);
}
