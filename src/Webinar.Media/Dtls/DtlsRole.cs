namespace Webinar.Media.Dtls;

/// <summary>Which side of the DTLS handshake this endpoint plays.</summary>
public enum DtlsRole
{
    /// <summary>DTLS server, SDP <c>a=setup:passive</c>: the node's role toward browsers.</summary>
    Server,

    /// <summary>DTLS client, SDP <c>a=setup:active</c>: our C# client and the dialling side of a node-to-node link.</summary>
    Client,
}
