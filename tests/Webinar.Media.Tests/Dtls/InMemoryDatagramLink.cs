using Webinar.Media.Dtls;

namespace Webinar.Media.Tests.Dtls;

/// <summary>
/// Two DtlsTransports wired back to back in process. Each direction can drop or corrupt datagrams through a filter
/// (return false to drop), so tests can model loss and an attacker injecting bytes.
/// </summary>
internal sealed class InMemoryDatagramLink
{
    public Func<int, byte[], bool>? ClientToServerFilter { get; set; }

    public Func<int, byte[], bool>? ServerToClientFilter { get; set; }

    public DtlsTransport? Server { get; set; }

    public DtlsTransport? Client { get; set; }

    public int ClientToServerCount;

    public int ServerToClientCount;

    public IDatagramSender ClientSender => new Direction(this, toServer: true);

    public IDatagramSender ServerSender => new Direction(this, toServer: false);

    private sealed class Direction(InMemoryDatagramLink link, bool toServer) : IDatagramSender
    {
        public void Send(ReadOnlySpan<byte> datagram)
        {
            var copy = datagram.ToArray();
            if (toServer)
            {
                var index = Interlocked.Increment(ref link.ClientToServerCount) - 1;
                if (link.ClientToServerFilter?.Invoke(index, copy) ?? true)
                {
                    link.Server?.OnDatagram(copy);
                }
            }
            else
            {
                var index = Interlocked.Increment(ref link.ServerToClientCount) - 1;
                if (link.ServerToClientFilter?.Invoke(index, copy) ?? true)
                {
                    link.Client?.OnDatagram(copy);
                }
            }
        }
    }
}

/// <summary>A sender into the void: models a peer that never answers.</summary>
internal sealed class BlackHoleSender : IDatagramSender
{
    public int Sent;

    public void Send(ReadOnlySpan<byte> datagram) => Interlocked.Increment(ref Sent);
}
