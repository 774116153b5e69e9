namespace Webinar.Media.Dtls;

/// <summary>
/// Sends one datagram to the remote peer (in the node: the ICE-selected 5-tuple of a WebRtcTransport).
/// Called from the DTLS handshake thread and from the thread that hands datagrams to
/// <see cref="DtlsTransport.OnDatagram"/>; implementations must be thread-safe and must not block for long.
/// The span is only valid during the call.
/// </summary>
public interface IDatagramSender
{
    void Send(ReadOnlySpan<byte> datagram);
}
