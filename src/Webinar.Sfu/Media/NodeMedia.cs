using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Webinar.Media.Dtls;
using Webinar.Media.Stun;
using Webinar.Media.Transport;

namespace Webinar.Sfu.Media;

/// <summary>
/// The media side of a node: the media loop, the node's DTLS certificate, and the tables that route each datagram
/// to its transport — by remote address once ICE selected it, by the ICE username fragment before that.
/// </summary>
internal sealed class NodeMedia : IMediaLoopHandler, IDisposable
{
    private readonly ConcurrentDictionary<string, WebRtcTransport> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<SocketAddress, MediaTransport> _byAddress = [];
    private readonly Dictionary<MediaTransport, SocketAddress> _addressOf = [];
    private readonly List<MediaTransport> _transports = [];
    private readonly byte[] _sendBuffer = GC.AllocateUninitializedArray<byte>(MediaLoop.MaxDatagram + 128, pinned: true);
    private readonly byte[] _rtcpBuffer = GC.AllocateUninitializedArray<byte>(MediaLoop.MaxDatagram + 128, pinned: true);
    private readonly long _originTimestamp;

    public NodeMedia(IPEndPoint bindTo, IPAddress announcedAddress, TimeProvider time, ILoggerFactory loggers)
    {
        Time = time;
        Counters = new MediaCounters();
        Load = new MediaLoad();
        Loop = new MediaLoop(bindTo, time, Counters);
        AnnouncedAddress = announcedAddress;
        Certificate = DtlsCertificate.Generate(time);
        DtlsLogger = loggers.CreateLogger("Webinar.Media.Dtls");
        _originTimestamp = time.GetTimestamp();
    }

    public MediaLoop Loop { get; }

    public MediaCounters Counters { get; }

    /// <summary>Once-a-second figures of the media thread (busy ratio, transports, relay links, loss).</summary>
    public MediaLoad Load { get; }

    public TimeProvider Time { get; }

    public DtlsCertificate Certificate { get; }

    public ILogger DtlsLogger { get; }

    public IPAddress AnnouncedAddress { get; }

    public int Port => Loop.LocalEndPoint.Port;

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

    /// <summary>Routes datagrams from <paramref name="address"/> to <paramref name="transport"/>. Loop thread.</summary>
    public void Bind(SocketAddress address, MediaTransport transport)
    {
        if (_addressOf.Remove(transport, out var previous))
        {
            _byAddress.Remove(previous);
        }

        if (_byAddress.TryGetValue(address, out var other) && other != transport)
        {
            _addressOf.Remove(other);
        }

        _byAddress[address] = transport;
        _addressOf[transport] = address;
    }

    /// <summary>Forgets a closed transport. Loop thread.</summary>
    public void Unregister(MediaTransport transport)
    {
        if (transport is WebRtcTransport webRtc)
        {
            _byUfrag.TryRemove(new KeyValuePair<string, WebRtcTransport>(webRtc.LocalUfrag, webRtc));
        }

        if (_addressOf.Remove(transport, out var address))
        {
            _byAddress.Remove(address);
        }

        _transports.Remove(transport);
    }

    public void OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        Counters.BytesReceived += datagram.Length;
        var kind = PacketClassifier.Classify(datagram);
        _byAddress.TryGetValue(from, out var transport);
        switch (kind)
        {
            case PacketKind.Stun:
                var webRtc = transport as WebRtcTransport ?? FindByUsername(datagram);
                if (webRtc is null)
                {
                    Counters.UnknownSource++;
                    return;
                }

                webRtc.OnStun(datagram, from);
                return;
            case PacketKind.Dtls when transport is WebRtcTransport dtls:
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
