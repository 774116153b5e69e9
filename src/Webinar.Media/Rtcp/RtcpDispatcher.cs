namespace Webinar.Media.Rtcp;

/// <summary>
/// What a media endpoint acts on in the RTCP it receives: sender reports (for its receive statistics and
/// synchronisation), generic NACKs (retransmit), transport-wide congestion control feedback and keyframe requests.
/// Implemented by a struct over the endpoint (the node's transport, the connector's client), so dispatch is
/// allocation-free.
/// </summary>
public interface IRtcpListener
{
    void OnSenderReport(in RtcpSenderReport report);

    void OnGenericNack(in RtcpGenericNack nack);

    void OnTransportFeedback(in RtcpTransportFeedback feedback);

    /// <summary>A picture loss indication for <paramref name="mediaSsrc"/>, or one entry of a full intra request.</summary>
    void OnKeyframeRequest(uint mediaSsrc);
}

/// <summary>
/// The one rule for reading a decrypted compound RTCP packet: which packet type and feedback format is which message
/// (RFC 3550 SR, RFC 4585 generic NACK and PLI, RFC 5104 FIR with one request per entry,
/// draft-holmer-rmcat-transport-wide-cc-extensions-01 feedback). Packets of other kinds, and ones that do not parse
/// as their kind, are skipped; the walk stops at the first malformed packet.
/// </summary>
public static class RtcpDispatcher
{
    /// <returns>False when the compound packet was malformed (the packets before the fault were dispatched).</returns>
    public static bool Dispatch<TListener>(ReadOnlySpan<byte> compound, ref TListener listener)
        where TListener : struct, IRtcpListener
    {
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out var packet))
        {
            switch (packet.PacketType)
            {
                case RtcpPacketType.SenderReport when RtcpSenderReport.TryParse(packet, out var sr):
                    listener.OnSenderReport(sr);
                    break;
                case RtcpPacketType.TransportFeedback when packet.Count == RtcpFeedbackFormat.GenericNack && RtcpGenericNack.TryParse(packet, out var nack):
                    listener.OnGenericNack(nack);
                    break;
                case RtcpPacketType.TransportFeedback when packet.Count == RtcpFeedbackFormat.TransportWideCongestionControl
                                                              && RtcpTransportFeedback.TryParse(packet, out var twcc):
                    listener.OnTransportFeedback(twcc);
                    break;
                case RtcpPacketType.PayloadFeedback when packet.Count == RtcpFeedbackFormat.PictureLossIndication
                                                            && RtcpPictureLossIndication.TryParse(packet, out var pli):
                    listener.OnKeyframeRequest(pli.MediaSsrc);
                    break;
                case RtcpPacketType.PayloadFeedback when packet.Count == RtcpFeedbackFormat.FullIntraRequest && RtcpFullIntraRequest.TryParse(packet, out var fir):
                    for (var i = 0; i < fir.EntryCount; i++)
                    {
                        fir.GetEntry(i, out var ssrc, out _);
                        listener.OnKeyframeRequest(ssrc);
                    }

                    break;
            }
        }

        return !reader.IsMalformed;
    }
}
