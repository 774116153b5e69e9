using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Media;

/// <summary>One address the media plane listens on: the IP its sockets bind and the IP its candidates announce.</summary>
internal sealed record MediaListenAddress(IPAddress Bind, IPAddress Announced)
{
    public bool IsLoopback => IPAddress.IsLoopback(Announced);
}

/// <summary>Turns <see cref="SfuOptions.MediaAddresses"/> into bind/announce pairs; an empty list means the machine's own addresses.</summary>
internal static class MediaAddressResolver
{
    public static IReadOnlyList<MediaListenAddress> Resolve(IReadOnlyList<MediaListenInfo> configured)
    {
        if (configured.Count == 0)
        {
            return MachineDefaults();
        }

        var resolved = new List<MediaListenAddress>();
        foreach (var entry in configured)
        {
            if (!IPAddress.TryParse(entry.Ip, out var bind))
            {
                throw new InvalidOperationException($"Sfu:MediaAddresses: '{entry.Ip}' is not an IP address.");
            }

            var announced = bind;
            if (!string.IsNullOrWhiteSpace(entry.AnnouncedAddress) && !IPAddress.TryParse(entry.AnnouncedAddress, out announced))
            {
                throw new InvalidOperationException($"Sfu:MediaAddresses: announced address '{entry.AnnouncedAddress}' of {entry.Ip} is not an IP address.");
            }

            if (announced.Equals(IPAddress.Any) || announced.Equals(IPAddress.IPv6Any))
            {
                throw new InvalidOperationException($"Sfu:MediaAddresses: {entry.Ip} is a wildcard; give it an AnnouncedAddress clients can reach.");
            }

            if (resolved.Exists(r => r.Bind.Equals(bind)))
            {
                throw new InvalidOperationException($"Sfu:MediaAddresses: {entry.Ip} is listed twice.");
            }

            resolved.Add(new MediaListenAddress(bind, announced));
        }

        return resolved;
    }

    /// <summary>Every non-loopback IPv4 and global IPv6 address of the machine's interfaces that are not down, then 127.0.0.1.</summary>
    public static IReadOnlyList<MediaListenAddress> MachineDefaults()
    {
        var found = new List<MediaListenAddress>();
        foreach (var address in MachineAddresses())
        {
            found.Add(new MediaListenAddress(address, address));
        }

        found.Add(new MediaListenAddress(IPAddress.Loopback, IPAddress.Loopback));
        return found;
    }

    /// <summary>The first non-loopback IPv4 address of the machine (or 127.0.0.1 without one), for URLs other hosts use.</summary>
    public static string FirstReachable()
    {
        foreach (var address in MachineAddresses())
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                return address.ToString();
            }
        }

        return IPAddress.Loopback.ToString();
    }

    private static IEnumerable<IPAddress> MachineAddresses()
    {
        var v4 = new List<IPAddress>();
        var v6 = new List<IPAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus == OperationalStatus.Down || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (IPAddress.IsLoopback(address))
                {
                    continue;
                }

                if (address.AddressFamily == AddressFamily.InterNetwork && !v4.Contains(address))
                {
                    v4.Add(address);
                }
                else if (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal && !address.IsIPv6SiteLocal
                    && !address.IsIPv4MappedToIPv6 && !v6.Contains(address))
                {
                    v6.Add(address);
                }
            }
        }

        return [.. v4, .. v6];
    }
}
