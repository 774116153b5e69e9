using System.Net;
using System.Net.Sockets;

namespace Webinar.TestSupport.Servers;

internal static class FreePorts
{
    /// <summary>A TCP port free on loopback now (the kernel's choice).</summary>
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
