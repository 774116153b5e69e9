using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Webhooks;

/// <summary>
/// Where webhooks may go: public addresses only, unless <see cref="WebhookOptions.AllowedNetworks"/> lists the
/// network (on-premises receivers). Loopback, private (RFC 1918, unique-local), link-local (169.254/16, where cloud
/// metadata services live), carrier-grade NAT, multicast, reserved and documentation ranges are refused, and so
/// are IPv6 forms that carry an IPv4 address (NAT64, 6to4; a mapped address is judged as its IPv4 address). The one rule behind both checks: CreateMeeting
/// refuses a URL whose host is such an address (or <c>localhost</c>), and each delivery refuses to connect when the
/// name resolves to no allowed address (so a name that moves to an internal address later is refused too).
/// </summary>
internal sealed class WebhookTargets
{
    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.88.99.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/127"),
        IPNetwork.Parse("64:ff9b::/96"),
        IPNetwork.Parse("64:ff9b:1::/48"),
        IPNetwork.Parse("100::/64"),
        IPNetwork.Parse("2001::/23"),
        IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("2002::/16"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private readonly IPNetwork[] _allowed;

    public WebhookTargets(IOptions<WebhookOptions> options) => _allowed = options.Value.AllowedNetworkList();

    /// <summary>Whether a delivery may connect to <paramref name="address"/>.</summary>
    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in _allowed)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        foreach (var network in Refused)
        {
            if (network.Contains(address))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Null when CreateMeeting may accept <paramref name="url"/> as a WebhookUrl, else why not.</summary>
    public string? Problem(Uri url)
    {
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return "NotificationsConfiguration.WebhookUrl must not carry credentials.";
        }

        var host = url.DnsSafeHost.TrimEnd('.');
        IPAddress? address = null;
        if (url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(host, out var literal))
        {
            address = literal;
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }

        return address is not null && !IsAllowed(address)
            ? $"NotificationsConfiguration.WebhookUrl must reach a public address; {host} is loopback, private, link-local or reserved (Webhooks:AllowedNetworks lists networks allowed on premises)."
            : null;
    }

    /// <summary>
    /// The delivery client's connect step: resolves the host and connects only to allowed addresses, so what is
    /// checked is what is connected to. Redirects are never followed and no proxy is used.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var allowed = Array.FindAll(addresses, IsAllowed);
        if (allowed.Length == 0)
        {
            throw new WebhookTargetRefusedException(
                $"Refused to connect to {endpoint.Host}: it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, none of which is an allowed webhook address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A webhook target that resolved to no allowed address; the delivery is given up at once.</summary>
internal sealed class WebhookTargetRefusedException(string message) : Exception(message);
