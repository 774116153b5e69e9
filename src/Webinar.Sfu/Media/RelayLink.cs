using System.Diagnostics;
using System.Net;
using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Media.Srtp;
using Webinar.Sfu.Relay;

namespace Webinar.Sfu.Media;

/// <summary>What a relay link reports to the relay that owns it.</summary>
internal interface IRelayLinkListener
{
    /// <summary>The link closed (peer silent, replaced, or no longer needed). Loop thread.</summary>
    void OnLinkClosed(RelayLink link, string reason);
}

/// <summary>
/// The media path between this node and one other node: RTP/RTCP over UDP on both nodes' media sockets, protected
/// with SRTP keys the two exchanged over the bus. On a primary's node its consumers carry the primary's streams (one
/// per stream, whatever the audience size on the far node); on a replica's node its producers feed the primary's
/// proxy router there, which fans out to the local replicas. Keyframe requests and NACKs travel back the same way.
/// A peer not heard from for <see cref="RelayOptions.LinkSilenceTimeout"/> is gone: the link closes, and the relay re-opens it when the
/// peer answers again. Loop thread only.
/// </summary>
internal sealed class RelayLink : MediaTransport
{
    private readonly long _keepaliveInterval;

    private readonly MediaPath _path;
    private readonly IRelayLinkListener _listener;
    private readonly long _silenceTicks;
    private long _lastHeard;
    private long _nextKeepalive;

    public RelayLink(MediaWorker node, Guid linkId, string peerNodeId, IPEndPoint peer, SrtpProfile profile,
        RelayKeySet inbound, RelayKeySet outbound, IRelayLinkListener listener, RelayOptions options)
        : base(node)
    {
        LinkId = linkId;
        PeerNodeId = peerNodeId;
        _path = new MediaPath(node.RelaySocket, peer.Serialize());
        _listener = listener;
        _silenceTicks = (long)(options.LinkSilenceTimeout.TotalSeconds * node.Time.TimestampFrequency);
        _keepaliveInterval = (long)(options.LinkKeepaliveInterval.TotalSeconds * node.Time.TimestampFrequency);
        _lastHeard = node.Time.GetTimestamp();
        StartSrtp(new SrtpSession(profile, inbound.Key, inbound.Salt), new SrtpSession(profile, outbound.Key, outbound.Salt));
    }

    public Guid LinkId { get; }

    public string PeerNodeId { get; }

    public SocketAddress PeerAddress => _path.Remote;

    /// <summary>Always from the node's relay socket, whose announced address is the one the peer registered.</summary>
    protected override MediaPath? Path => _path;

    protected override void OnRtpReceived(RtpPacket packet, long nowMicros) => _lastHeard = Node.Time.GetTimestamp();

    protected override void OnRtcpReceived() => _lastHeard = Node.Time.GetTimestamp();

    public override void OnTick(long now)
    {
        if (IsClosed)
        {
            return;
        }

        if (now - _lastHeard > _silenceTicks)
        {
            Close("relay-peer-silent");
            return;
        }

        base.OnTick(now);
        if (now >= _nextKeepalive)
        {
            // An empty receiver report every keepalive interval keeps the peer's silence timer quiet when no media flows.
            _nextKeepalive = now + _keepaliveInterval;
            var buffer = Node.RtcpBuffer;
            if (RtcpReceiverReport.TryWrite(buffer, RtcpSsrc, ReadOnlySpan<ReportBlock>.Empty, out var length))
            {
                SendRtcp(buffer, length);
            }
        }
    }

    protected override void OnConsumerClosed(Consumer consumer)
    {
    }

    protected override void OnClosed(string reason) => _listener.OnLinkClosed(this, reason);
}

/// <summary>One direction's SRTP master key and salt.</summary>
internal sealed record RelayKeySet(byte[] Key, byte[] Salt)
{
    public static RelayKeySet Generate(SrtpProfile profile)
    {
        var key = new byte[SrtpProfiles.MasterKeyLength(profile)];
        var salt = new byte[SrtpProfiles.MasterSaltLength(profile)];
        System.Security.Cryptography.RandomNumberGenerator.Fill(key);
        System.Security.Cryptography.RandomNumberGenerator.Fill(salt);
        return new RelayKeySet(key, salt);
    }
}
