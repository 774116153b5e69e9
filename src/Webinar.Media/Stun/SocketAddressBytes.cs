using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Webinar.Media.Stun;

/// <summary>
/// Reads the port and IP bytes straight out of a <see cref="SocketAddress"/> (sockaddr_in / sockaddr_in6 layout:
/// port at offset 2, IPv4 address at 4, IPv6 address at 8) so the hot path never materialises an IPEndPoint.
/// IPv4-mapped IPv6 addresses from dual-mode sockets are reported as IPv4.
/// </summary>
internal static class SocketAddressBytes
{
    private const int IPv4AddressOffset = 4;
    private const int IPv6AddressOffset = 8;

    public static bool TryRead(SocketAddress socketAddress, Span<byte> address, out int addressLength, out ushort port)
    {
        addressLength = 0;
        port = 0;
        ReadOnlySpan<byte> raw = socketAddress.Buffer.Span.Slice(0, socketAddress.Size);
        if (socketAddress.Family == AddressFamily.InterNetwork && raw.Length >= IPv4AddressOffset + 4)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(raw.Slice(2));
            raw.Slice(IPv4AddressOffset, 4).CopyTo(address);
            addressLength = 4;
            return true;
        }

        if (socketAddress.Family == AddressFamily.InterNetworkV6 && raw.Length >= IPv6AddressOffset + 16)
        {
            port = BinaryPrimitives.ReadUInt16BigEndian(raw.Slice(2));
            ReadOnlySpan<byte> v6 = raw.Slice(IPv6AddressOffset, 16);
            if (IsIPv4Mapped(v6))
            {
                v6.Slice(12, 4).CopyTo(address);
                addressLength = 4;
                return true;
            }

            v6.CopyTo(address);
            addressLength = 16;
            return true;
        }

        return false;
    }

    public static bool TryRead(IPEndPoint endpoint, Span<byte> address, out int addressLength, out ushort port)
    {
        port = (ushort)endpoint.Port;
        IPAddress ip = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        return ip.TryWriteBytes(address, out addressLength);
    }

    private static bool IsIPv4Mapped(ReadOnlySpan<byte> v6)
    {
        for (int i = 0; i < 10; i++)
        {
            if (v6[i] != 0)
            {
                return false;
            }
        }

        return v6[10] == 0xFF && v6[11] == 0xFF;
    }
}
