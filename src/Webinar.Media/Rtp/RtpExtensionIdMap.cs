namespace Webinar.Media.Rtp;

/// <summary>
/// Translates RFC 8285 header extension ids from one peer's numbering (the publisher's SDP) to another's (the
/// subscriber's SDP), in place. Elements the subscriber did not negotiate are erased: their bytes become padding
/// (id 0), which every RFC 8285 parser skips, so the packet keeps its length and nothing is copied.
/// </summary>
public sealed class RtpExtensionIdMap
{
    private readonly byte[] _map = new byte[256];

    /// <summary>Maps <paramref name="fromId"/> to <paramref name="toId"/>; 0 erases the element.</summary>
    public void Set(byte fromId, byte toId) => _map[fromId] = toId;

    /// <summary>Rewrites the ids of every element of <paramref name="packet"/>'s extension block.</summary>
    public void Apply(RtpPacket packet)
    {
        var data = packet.ExtensionData;
        if (data.IsEmpty)
        {
            return;
        }

        var profile = packet.ExtensionProfile;
        if (profile == RtpPacket.OneByteExtensionProfile)
        {
            ApplyOneByte(data);
        }
        else if ((profile & 0xFFF0) == RtpPacket.TwoByteExtensionProfile)
        {
            ApplyTwoByte(data);
        }
    }

    private void ApplyOneByte(Span<byte> data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var first = data[offset];
            if (first == 0)
            {
                offset++;
                continue;
            }

            var id = first >> 4;
            var length = (first & 0x0F) + 1;
            if (id == 15 || offset + 1 + length > data.Length)
            {
                return;
            }

            var to = _map[id];
            if (to is 0 or > 14)
            {
                data.Slice(offset, 1 + length).Clear();
            }
            else
            {
                data[offset] = (byte)((to << 4) | (first & 0x0F));
            }

            offset += 1 + length;
        }
    }

    private void ApplyTwoByte(Span<byte> data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var id = data[offset];
            if (id == 0)
            {
                offset++;
                continue;
            }

            if (offset + 2 > data.Length)
            {
                return;
            }

            var length = data[offset + 1];
            if (offset + 2 + length > data.Length)
            {
                return;
            }

            var to = _map[id];
            if (to == 0)
            {
                data.Slice(offset, 2 + length).Clear();
            }
            else
            {
                data[offset] = to;
            }

            offset += 2 + length;
        }
    }
}
