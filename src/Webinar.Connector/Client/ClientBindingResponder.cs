using System.Net;
using System.Text;
using Webinar.Media.Stun;

namespace Webinar.Connector.Client;

/// <summary>
/// Answers a full ICE peer's connectivity checks (RFC 8445 §7.3): a Binding request whose USERNAME is
/// <c>localUfrag:remoteUfrag</c>, whose MESSAGE-INTEGRITY verifies with the local password and whose FINGERPRINT is
/// right gets a success response with XOR-MAPPED-ADDRESS. An ICE-lite peer never sends checks; this is for full peers.
/// Anything else is ignored. Receive-thread only.
/// </summary>
internal sealed class ClientBindingResponder
{
    private readonly byte[] _expectedUsername;
    private readonly byte[] _localPassword;

    public ClientBindingResponder(string localUfrag, string localPassword, string remoteUfrag)
    {
        _expectedUsername = Encoding.UTF8.GetBytes(localUfrag + ":" + remoteUfrag);
        _localPassword = Encoding.UTF8.GetBytes(localPassword);
    }

    /// <summary>Writes the response into <paramref name="response"/>; 0 when the datagram is not a check to answer.</summary>
    public int TryAnswer(ReadOnlySpan<byte> datagram, SocketAddress source, Span<byte> response)
    {
        if (!StunMessage.TryParse(datagram, out var request)
            || request.Method != StunMethod.Binding
            || request.Class != StunClass.Request
            || !request.VerifyFingerprint()
            || !request.TryGetUsername(out var username)
            || !username.SequenceEqual(_expectedUsername)
            || !request.VerifyMessageIntegrity(_localPassword))
        {
            return 0;
        }

        var writer = new StunMessageWriter(response, StunClass.SuccessResponse, StunMethod.Binding, request.TransactionId);
        writer.AddXorMappedAddress(source);
        writer.AddMessageIntegrity(_localPassword);
        writer.AddFingerprint();
        return writer.TryComplete(out int length) ? length : 0;
    }
}
