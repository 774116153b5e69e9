using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>What a TURN server answered: success with the relayed address, or an error code (401 refused credentials, 403 forbidden peer).</summary>
public sealed record TurnAnswer(bool Success, int ErrorCode, string? Reason, IPEndPoint? Relayed)
{
    public override string ToString() => Success ? $"success (relayed {Relayed})" : $"error {ErrorCode} {Reason}";
}

/// <summary>
/// A minimal TURN client over UDP (RFC 8656 Allocate and CreatePermission, RFC 8489 long-term credentials: the first
/// request draws 401 with REALM and NONCE, the second carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with
/// MD5(username:realm:password)), enough to ask a real coturn whether it accepts a credential.
/// </summary>
public sealed class TurnAllocation : IDisposable
{
    private const ushort AllocateRequest = 0x0003;
    private const ushort CreatePermissionRequest = 0x0008;
    private const ushort RefreshRequest = 0x0004;
    private const ushort AttrUsername = 0x0006, AttrIntegrity = 0x0008, AttrErrorCode = 0x0009, AttrRealm = 0x0014, AttrNonce = 0x0015;
    private const ushort AttrLifetime = 0x000D, AttrPeerAddress = 0x0012, AttrRelayedAddress = 0x0016, AttrRequestedTransport = 0x0019;
    private const uint MagicCookie = 0x2112A442;

    private readonly UdpClient _udp;
    private readonly IPEndPoint _server;
    private readonly string _username;
    private readonly string _password;
    private byte[]? _realm;
    private byte[]? _nonce;

    public TurnAllocation(IPEndPoint server, string username, string password)
    {
        _server = server;
        _username = username;
        _password = password;
        _udp = new UdpClient(server.AddressFamily);
        _udp.Connect(server);
    }

    /// <summary>Asks for a UDP relay. Success means the server accepted the credential.</summary>
    public async Task<TurnAnswer> AllocateAsync()
    {
        var transport = new byte[4];
        transport[0] = 17; // UDP
        return await AuthenticatedAsync(AllocateRequest, [(AttrRequestedTransport, transport)]);
    }

    /// <summary>Asks for a permission to <paramref name="peer"/> on the allocation (403 when the server may not relay there).</summary>
    public Task<TurnAnswer> CreatePermissionAsync(IPEndPoint peer) =>
        AuthenticatedAsync(CreatePermissionRequest, [(AttrPeerAddress, XorAddress(peer))]);

    /// <summary>Frees the allocation (Refresh with LIFETIME 0); errors are ignored.</summary>
    public async Task ReleaseAsync()
    {
        try
        {
            await AuthenticatedAsync(RefreshRequest, [(AttrLifetime, new byte[4])]);
        }
        catch (TimeoutException)
        {
        }
    }

    public void Dispose() => _udp.Dispose();

    private async Task<TurnAnswer> AuthenticatedAsync(ushort method, (ushort Type, byte[] Value)[] attributes)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var answer = await TransactAsync(method, attributes, authenticate: _nonce is not null);
            // 401 without our credentials yet, or 438 stale nonce: learn realm and nonce and ask again once.
            if (!answer.Success && (answer.ErrorCode == 438 || (answer.ErrorCode == 401 && attempt == 0 && answer.LearnedNonce)))
            {
                continue;
            }

            return answer.Answer;
        }

        throw new InvalidOperationException("The TURN server kept asking for a new nonce.");
    }

    private async Task<(bool Success, int ErrorCode, bool LearnedNonce, TurnAnswer Answer)> TransactAsync(ushort method, (ushort Type, byte[] Value)[] attributes, bool authenticate)
    {
        var transactionId = RandomNumberGenerator.GetBytes(12);
        var body = new List<byte>();
        foreach (var (type, value) in attributes)
        {
            Append(body, type, value);
        }

        if (authenticate)
        {
            Append(body, AttrUsername, Encoding.UTF8.GetBytes(_username));
            Append(body, AttrRealm, _realm!);
            Append(body, AttrNonce, _nonce!);
            var key = MD5.HashData(Encoding.UTF8.GetBytes($"{_username}:{Encoding.UTF8.GetString(_realm!)}:{_password}"));
            var beforeIntegrity = Message(method, transactionId, body, extra: 24);
            Append(body, AttrIntegrity, HMACSHA1.HashData(key, beforeIntegrity));
        }

        var request = Message(method, transactionId, body, extra: 0);

        for (var retransmit = 0; retransmit < 5; retransmit++)
        {
            await _udp.SendAsync(request);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                while (true)
                {
                    var received = await _udp.ReceiveAsync(timeout.Token);
                    var response = received.Buffer;
                    if (response.Length < 20 || !response.AsSpan(8, 12).SequenceEqual(transactionId))
                    {
                        continue;
                    }

                    return Parse(response, method);
                }
            }
            catch (OperationCanceledException)
            {
                // Retransmit.
            }
        }

        throw new TimeoutException($"No answer from the TURN server at {_server}.");
    }

    private (bool, int, bool, TurnAnswer) Parse(byte[] response, ushort method)
    {
        var type = BinaryPrimitives.ReadUInt16BigEndian(response);
        var success = type == (method | 0x0100);
        int code = 0;
        string? reason = null;
        IPEndPoint? relayed = null;
        var learned = false;
        var length = BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(2));
        var offset = 20;
        while (offset + 4 <= 20 + length && offset + 4 <= response.Length)
        {
            var attr = BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(offset));
            var len = BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(offset + 2));
            var value = response.AsSpan(offset + 4, Math.Min(len, response.Length - offset - 4));
            switch (attr)
            {
                case AttrErrorCode when value.Length >= 4:
                    code = (value[2] & 0x7) * 100 + value[3];
                    reason = Encoding.UTF8.GetString(value[4..]);
                    break;
                case AttrRealm:
                    _realm = value.ToArray();
                    break;
                case AttrNonce:
                    _nonce = value.ToArray();
                    learned = true;
                    break;
                case AttrRelayedAddress when value.Length >= 8:
                    relayed = ReadXorAddress(value);
                    break;
            }

            offset += 4 + ((len + 3) & ~3);
        }

        return (success, code, learned, new TurnAnswer(success, code, reason, relayed));
    }

    private static byte[] Message(ushort method, byte[] transactionId, List<byte> body, int extra)
    {
        var message = new byte[20 + body.Count];
        BinaryPrimitives.WriteUInt16BigEndian(message, method);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)(body.Count + extra));
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), MagicCookie);
        transactionId.CopyTo(message, 8);
        body.CopyTo(message, 20);
        return message;
    }

    private static void Append(List<byte> body, ushort type, byte[] value)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(header, type);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)value.Length);
        body.AddRange(header);
        body.AddRange(value);
        for (var pad = value.Length; pad % 4 != 0; pad++)
        {
            body.Add(0);
        }
    }

    private static byte[] XorAddress(IPEndPoint peer)
    {
        var address = peer.Address.MapToIPv4().GetAddressBytes();
        var value = new byte[8];
        value[1] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(2), (ushort)(peer.Port ^ (MagicCookie >> 16)));
        var cookie = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(cookie, MagicCookie);
        for (var i = 0; i < 4; i++)
        {
            value[4 + i] = (byte)(address[i] ^ cookie[i]);
        }

        return value;
    }

    private static IPEndPoint? ReadXorAddress(ReadOnlySpan<byte> value)
    {
        if (value[1] != 0x01)
        {
            return null;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (int)(MagicCookie >> 16);
        var cookie = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(cookie, MagicCookie);
        var address = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            address[i] = (byte)(value[4 + i] ^ cookie[i]);
        }

        return new IPEndPoint(new IPAddress(address), port);
    }
}
