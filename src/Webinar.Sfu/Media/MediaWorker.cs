using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Webinar.Media.Dtls;
using Webinar.Media.Stun;
using Webinar.Media.Transport;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Media;

/// <summary>
/// The media side of a node: the media loop, the node's DTLS certificate, and the tables that route each datagram
/// to its transport — by remote address once ICE selected it, by the ICE username fragment before that. It knows
/// transports, not meetings (mediasoup's worker): <see cref="NodeMediaPlane"/> owns one and adds the routers and peers
/// that signalling talks to.
/// </summary>
internal sealed class MediaWorker : IMediaLoopHandler, IDisposable
{
    private readonly ConcurrentDictionary<string, WebRtcTransport> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<SocketAddress, MediaTransport> _byAddress = [];
    private readonly Dictionary<MediaTransport, List<SocketAddress>> _addressesOf = [];
    private readonly List<MediaTransport> _transports = [];
    private readonly byte[] _sendBuffer = GC.AllocateUninitializedArray<byte>(MediaLoop.MaxDatagram + 128, pinned: true);
    private readonly byte[] _rtcpBuffer = GC.AllocateUninitializedArray<byte>(MediaLoop.MaxDatagram + 128, pinned: true);
    private readonly long _originTimestamp;

    /// <summary>A node on one address (tests, benchmarks): UDP only, announced as <paramref name="announcedAddress"/>.</summary>
    public MediaWorker(IPEndPoint bindTo, IPAddress announcedAddress, TimeProvider time, ILoggerFactory loggers)
        : this(new MediaLoopSettings([new MediaListenAddress(bindTo.Address, announcedAddress)], bindTo.Port, TcpPort: null), null, time, loggers)
    {
    }

    /// <param name="relayAddress">The announced address other nodes relay to; null: the first non-loopback one.</param>
    public MediaWorker(MediaLoopSettings settings, IPAddress? relayAddress, TimeProvider time, ILoggerFactory loggers)
    {
        Time = time;
        Counters = new MediaCounters();
        Load = new MediaLoad();
        Loop = new MediaLoop(settings, time, Counters);
        Candidates = NodeCandidates.Build(Loop.UdpSockets, Loop.TcpEndPoints);
        RelaySocket = ChooseRelaySocket(Loop.UdpSockets, relayAddress);
        Certificate = DtlsCertificate.Generate(time);
        DtlsLogger = loggers.CreateLogger("Webinar.Media.Dtls");
        DtlsTransport.LogServerEngine(DtlsLogger);
        _originTimestamp = time.GetTimestamp();
    }

    /// <summary>The node's worker as <see cref="SfuOptions"/> configure it (its media addresses, ports, ICE-TCP, relay address).</summary>
    public static MediaWorker FromOptions(SfuOptions options, MediaLimitsOptions limits, TimeProvider time, ILoggerFactory loggers)
    {
        var addresses = MediaAddressResolver.Resolve(options.MediaAddresses);
        var settings = new MediaLoopSettings(addresses, options.UdpPort, options.IceTcp ? options.TcpPort ?? options.UdpPort : null)
        {
            TcpHandshakeTimeout = options.IceTcpHandshakeTimeout,
            MaxTcpConnections = options.MaxIceTcpConnections,
            SendBatch = options.MediaSendBatch,
        };
        IPAddress? relay = null;
        if (!string.IsNullOrWhiteSpace(options.RelayAddress) && !IPAddress.TryParse(options.RelayAddress, out relay))
        {
            throw new InvalidOperationException($"Sfu:RelayAddress '{options.RelayAddress}' is not an IP address.");
        }

        return new MediaWorker(settings, relay, time, loggers) { Limits = limits };
    }

    private static UdpMediaSocket ChooseRelaySocket(IReadOnlyList<UdpMediaSocket> sockets, IPAddress? relayAddress)
    {
        foreach (var socket in sockets)
        {
            if (relayAddress is null ? !socket.Address.IsLoopback : socket.Address.Announced.Equals(relayAddress))
            {
                return socket;
            }
        }

        return relayAddress is null
            ? sockets[0]
            : throw new InvalidOperationException($"Sfu:RelayAddress {relayAddress} is not an announced media address of this node.");
    }

    public MediaLoop Loop { get; }

    public MediaCounters Counters { get; }

    /// <summary>Bounds on what one peer can make the loop do (retransmissions, SRTP state).</summary>
    public MediaLimitsOptions Limits { get; init; } = new();

    /// <summary>Once-a-second figures of the media thread (busy ratio, transports, relay links, loss).</summary>
    public MediaLoad Load { get; }

    public TimeProvider Time { get; }

    public DtlsCertificate Certificate { get; }

    public ILogger DtlsLogger { get; }

    /// <summary>The candidates every answer carries: each UDP socket, then each ICE-TCP listener (passive).</summary>
    public NodeCandidates Candidates { get; }

    /// <summary>The UDP socket relay links use; other nodes reach it at its announced address.</summary>
    public UdpMediaSocket RelaySocket { get; }

    /// <summary>The address other nodes relay to.</summary>
    public IPAddress RelayHost => RelaySocket.Address.Announced;

    /// <summary>The relay socket's port.</summary>
    public int Port => RelaySocket.LocalEndPoint.Port;

    /// <summary>Scratch buffer for outgoing RTP (loop thread only).</summary>
    public Span<byte> SendBuffer => _sendBuffer;

    /// <summary>Scratch buffer for outgoing RTCP (loop thread only).</summary>
    public Span<byte> RtcpBuffer => _rtcpBuffer;

    public void Start() => Loop.Start(this);

    public long NowMicros() => (long)((Time.GetTimestamp() - _originTimestamp) * (1_000_000.0 / Time.TimestampFrequency));

    /// <summary>Makes a transport reachable for ICE checks. Any thread.</summary>
    public void Register(WebRtcTransport transport)
    {
        _byUfrag[transport.LocalUfrag] = transport;
        Loop.Post(() => _transports.Add(transport));
    }

    /// <summary>Adds a transport whose peer address is known up front (a relay link). Loop thread.</summary>
    public void Register(MediaTransport transport, SocketAddress peer)
    {
        _transports.Add(transport);
        Bind(peer, transport);
    }

    /// <summary>An immutable copy of an address (the loop's receive address object is reused).</summary>
    public static SocketAddress Copy(SocketAddress from)
    {
        var copy = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span[..from.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>Validated addresses one browser transport keeps (its candidate pairs); the oldest goes first beyond it.</summary>
    public const int MaxAddressesPerTransport = 8;

    /// <summary>
    /// Routes UDP datagrams from <paramref name="address"/> to <paramref name="transport"/>, taking the address from
    /// whoever had it (a relay link's peer address is configured, not learnt). Loop thread.
    /// </summary>
    public void Bind(SocketAddress address, MediaTransport transport)
    {
        if (_byAddress.TryGetValue(address, out var other) && other != transport && _addressesOf.TryGetValue(other, out var theirs))
        {
            theirs.Remove(address);
        }

        Add(address, transport);
    }

    /// <summary>
    /// Adds <paramref name="address"/> (a remote address that passed an ICE check) to the addresses routed to
    /// <paramref name="transport"/>, unless another transport or a relay link owns it: an ICE check never takes an
    /// address from its owner. Like mediasoup's tuples, every validated pair is received from; media is sent on the
    /// selected one. Loop thread.
    /// </summary>
    public bool TryBind(SocketAddress address, MediaTransport transport)
    {
        if (_byAddress.TryGetValue(address, out var owner))
        {
            if (owner == transport)
            {
                return true;
            }

            Counters.SpoofedChecks++;
            return false;
        }

        Add(address, transport);
        return true;
    }

    /// <summary>True when <paramref name="address"/> is routed to <paramref name="transport"/>. Loop thread, allocation-free.</summary>
    public bool IsOwnedBy(SocketAddress address, MediaTransport transport) =>
        _byAddress.TryGetValue(address, out var owner) && owner == transport;

    /// <summary>True when a transport other than <paramref name="transport"/> owns <paramref name="address"/>. Loop thread.</summary>
    public bool IsOwnedByOther(SocketAddress address, MediaTransport transport) =>
        _byAddress.TryGetValue(address, out var owner) && owner != transport;

    /// <summary>Gives a transport an ICE-TCP connection (what arrives on it goes to that transport). Loop thread.</summary>
    public bool TryBind(IceTcpConnection connection, MediaTransport transport)
    {
        if (connection.Owner is { } owner && owner != transport)
        {
            Counters.SpoofedChecks++;
            return false;
        }

        connection.Owner = transport;
        return true;
    }

    private void Add(SocketAddress address, MediaTransport transport)
    {
        if (!_addressesOf.TryGetValue(transport, out var mine))
        {
            mine = new List<SocketAddress>(2);
            _addressesOf[transport] = mine;
        }

        if (mine.Count >= MaxAddressesPerTransport)
        {
            _byAddress.Remove(mine[0]);
            mine.RemoveAt(0);
        }

        mine.Add(address);
        _byAddress[address] = transport;
    }

    /// <summary>Forgets a closed transport and closes its ICE-TCP connections. Loop thread.</summary>
    public void Unregister(MediaTransport transport)
    {
        if (transport is WebRtcTransport webRtc)
        {
            _byUfrag.TryRemove(new KeyValuePair<string, WebRtcTransport>(webRtc.LocalUfrag, webRtc));
        }

        if (_addressesOf.Remove(transport, out var addresses))
        {
            foreach (var address in addresses)
            {
                _byAddress.Remove(address);
            }
        }

        _transports.Remove(transport);
        var connections = Loop.TcpConnections;
        for (var i = connections.Count - 1; i >= 0; i--)
        {
            if (i < connections.Count && connections[i].Owner == transport)
            {
                Loop.CloseTcp(connections[i]);
            }
        }
    }

    public void OnDatagram(Span<byte> datagram, SocketAddress from, MediaSocket via)
    {
        Counters.BytesReceived += datagram.Length;
        var kind = PacketClassifier.Classify(datagram);
        MediaTransport? transport;
        if (via is IceTcpConnection tcp)
        {
            transport = tcp.Owner;
        }
        else
        {
            _byAddress.TryGetValue(from, out transport);
        }

        switch (kind)
        {
            case PacketKind.Stun:
                WebRtcTransport? webRtc;
                if (transport is null)
                {
                    webRtc = FindByUsername(datagram);
                }
                else if (transport is WebRtcTransport owner)
                {
                    // An address (or connection) belongs to one transport: checks from it go there, whatever their USERNAME says.
                    webRtc = owner;
                }
                else
                {
                    // A relay link's peer address never carries ICE.
                    Counters.SpoofedChecks++;
                    return;
                }

                if (webRtc is null)
                {
                    Counters.UnknownSource++;
                    return;
                }

                webRtc.OnStun(datagram, from, via);
                return;
            case PacketKind.Dtls when transport is WebRtcTransport dtls:
                Counters.DtlsReceived++;
                dtls.OnDtls(datagram);
                return;
            case PacketKind.Rtp when transport is not null:
                transport.OnRtp(datagram);
                return;
            case PacketKind.Rtcp when transport is not null:
                transport.OnRtcp(datagram);
                return;
            case PacketKind.Unknown:
                Counters.Malformed++;
                return;
            default:
                Counters.UnknownSource++;
                return;
        }
    }

    public void OnTcpClosed(IceTcpConnection connection)
    {
        if (connection.Owner is WebRtcTransport owner)
        {
            owner.OnPathClosed(connection);
        }
    }

    private WebRtcTransport? FindByUsername(ReadOnlySpan<byte> datagram)
    {
        if (!StunMessage.TryParse(datagram, out var message) || !message.TryGetUsername(out var username))
        {
            return null;
        }

        var colon = username.IndexOf((byte)':');
        if (colon <= 0)
        {
            return null;
        }

        // Only the first check from a new address gets here, so decoding the ufrag into a string is fine.
        var ufrag = Encoding.UTF8.GetString(username[..colon]);
        return _byUfrag.TryGetValue(ufrag, out var transport) ? transport : null;
    }

    public void OnTick(long nowTicks)
    {
        var transports = _transports;
        Load.Update(nowTicks, Time.TimestampFrequency, transports);
        for (var i = transports.Count - 1; i >= 0; i--)
        {
            if (i < transports.Count)
            {
                transports[i].OnTick(nowTicks);
            }
        }
    }

    public void Dispose() => Loop.Dispose();
}
