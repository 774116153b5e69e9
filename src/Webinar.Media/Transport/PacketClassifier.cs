namespace Webinar.Media.Transport;

/// <summary>What a datagram arriving on the shared media port carries.</summary>
public enum PacketKind
{
    Unknown = 0,
    Stun,
    Dtls,
    Rtp,
    Rtcp,
}

/// <summary>
/// First-byte demultiplexer for one UDP port carrying STUN, DTLS, RTP and RTCP (RFC 7983),
/// with RTP and RTCP told apart by the payload-type octet (RFC 5761 §4: 192–223 is RTCP).
/// </summary>
public static class PacketClassifier
{
    private const int StunHeaderLength = 20;
    private const int DtlsRecordHeaderLength = 13;
    private const int RtpMinimumLength = 12;
    private const int RtcpMinimumLength = 8;

    public static PacketKind Classify(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 2)
        {
            return PacketKind.Unknown;
        }

        byte first = datagram[0];
        if (first <= 3)
        {
            // STUN: the two top bits are zero and the magic cookie sits at offset 4.
            return datagram.Length >= StunHeaderLength
                && datagram[4] == 0x21 && datagram[5] == 0x12 && datagram[6] == 0xA4 && datagram[7] == 0x42
                ? PacketKind.Stun
                : PacketKind.Unknown;
        }

        if (first is >= 20 and <= 63)
        {
            return datagram.Length >= DtlsRecordHeaderLength ? PacketKind.Dtls : PacketKind.Unknown;
        }

        if (first is >= 128 and <= 191)
        {
            byte payloadType = datagram[1];
            if (payloadType is >= 192 and <= 223)
            {
                return datagram.Length >= RtcpMinimumLength ? PacketKind.Rtcp : PacketKind.Unknown;
            }

            return datagram.Length >= RtpMinimumLength ? PacketKind.Rtp : PacketKind.Unknown;
        }

        return PacketKind.Unknown;
    }
}
