using Webinar.Connector.Client;
using Webinar.Media.Rtp;

namespace Webinar.EndToEnd.Tests.Janus;

/// <summary>One decrypted RTP packet a client received, copied out of the receive callback.</summary>
internal sealed record ReceivedPacket(uint Ssrc, ushort SequenceNumber, uint Timestamp, bool Marker, byte PayloadType, byte[] Payload, ClientMediaKind? Kind);

/// <summary>Collects what a <see cref="WebRtcClient"/> receives (tests only: copies every packet).</summary>
internal sealed class ReceivedPacketLog
{
    private readonly List<ReceivedPacket> _packets = [];

    public void Attach(WebRtcClient client) => client.RtpReceived = OnRtp;

    public IReadOnlyList<ReceivedPacket> Snapshot()
    {
        lock (_packets)
        {
            return [.. _packets];
        }
    }

    private void OnRtp(ReceivedStats source, ReadOnlySpan<byte> rtpPacket)
    {
        byte[] copy = rtpPacket.ToArray();
        if (!RtpPacket.TryParse(copy, out var packet))
        {
            return;
        }

        var received = new ReceivedPacket(packet.Ssrc, packet.SequenceNumber, packet.Timestamp, packet.Marker, packet.PayloadType,
            packet.Payload.ToArray(), source.Track?.Kind);
        lock (_packets)
        {
            _packets.Add(received);
        }
    }
}
