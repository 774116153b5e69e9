using Webinar.Media.Rtp;

namespace Webinar.Connector.Client;

/// <summary>Audio (Opus 48 kHz stereo) or video (VP8 90 kHz).</summary>
public enum ClientMediaKind
{
    Audio,
    Video,
}

/// <summary>Direction of one m-line from the client's point of view.</summary>
public enum ClientTrackDirection
{
    SendOnly,
    RecvOnly,
    SendRecv,

    /// <summary>Rejected or with nothing to carry; only ever the result of answering a remote offer.</summary>
    Inactive,
}

/// <summary>
/// One m-line (transceiver) of a <see cref="WebRtcClient"/>: its mid, kind and direction, the SSRC it sends with, and what
/// the remote description negotiated (payload type, header extension ids, the remote SSRCs it receives).
/// The send state is owned by the client's sending thread.
/// </summary>
public sealed class ClientTrack
{
    internal const int DefaultPayloadTypeAudio = 111;
    internal const int DefaultPayloadTypeVideo = 96;

    /// <summary>The rtx payload type (RFC 4588) offered for VP8 when <see cref="WebRtcClientOptions.OfferRtx"/>.</summary>
    internal const int DefaultPayloadTypeRtx = 97;

    internal ClientTrack(string mid, ClientMediaKind kind, ClientTrackDirection direction, uint ssrc, string streamId, string trackId)
    {
        Mid = mid;
        Kind = kind;
        Direction = direction;
        OfferedDirection = direction;
        Ssrc = ssrc;
        StreamId = streamId;
        TrackId = trackId;
        PayloadType = (byte)(kind == ClientMediaKind.Audio ? DefaultPayloadTypeAudio : DefaultPayloadTypeVideo);
        ClockRate = kind == ClientMediaKind.Audio ? 48000u : 90000u;
        Cache = new RtpPacketCache(kind == ClientMediaKind.Audio ? 512 : 2048);
        SequenceNumber = (ushort)Random.Shared.Next(0, 0x8000);
        Timestamp = (uint)Random.Shared.Next();
        RtxSsrc = kind == ClientMediaKind.Video ? RtpSsrc.NewRandom() : 0;
        RtxSequenceNumber = (ushort)Random.Shared.Next(0, 0x8000);
    }

    /// <summary>The retransmission SSRC this track offers with rtx (video), paired with <see cref="Ssrc"/> in an FID group.</summary>
    public uint RtxSsrc { get; }

    /// <summary>The rtx payload type the answer accepted for this track's codec; -1: retransmissions go on <see cref="Ssrc"/>.</summary>
    public int RtxPayloadType { get; internal set; } = -1;

    internal ushort RtxSequenceNumber;

    public string Mid { get; }

    public ClientMediaKind Kind { get; }

    public ClientTrackDirection Direction { get; internal set; }

    /// <summary>
    /// What the client asks for in its offers, whatever the last answer made of it. Set it (e.g. to
    /// <see cref="ClientTrackDirection.Inactive"/> to stop sending after a demotion) before the next offer. Signalling thread.
    /// </summary>
    public ClientTrackDirection OfferedDirection { get; set; }

    /// <summary>The SSRC this track sends with (random, announced in the offer or answer).</summary>
    public uint Ssrc { get; }

    public string StreamId { get; }

    public string TrackId { get; }

    /// <summary>The negotiated payload type (the offer's default until a remote description is applied).</summary>
    public byte PayloadType { get; internal set; }

    public uint ClockRate { get; }

    /// <summary>SSRCs the remote description announced for this mid (what we expect to receive).</summary>
    public IReadOnlyList<uint> RemoteSsrcs { get; internal set; } = [];

    public bool Sends => Direction is ClientTrackDirection.SendOnly or ClientTrackDirection.SendRecv;

    public bool Receives => Direction is ClientTrackDirection.RecvOnly or ClientTrackDirection.SendRecv;

    /// <summary>Packets and payload bytes sent on this track, retransmissions excluded.</summary>
    public long PacketsSent => Volatile.Read(ref _packetsSent);

    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Packets sent again because the peer NACKed them.</summary>
    public long PacketsRetransmitted => Volatile.Read(ref _packetsRetransmitted);

    /// <summary>Key frames sent (video), including those forced by a PLI or FIR.</summary>
    public long KeyframesSent => Volatile.Read(ref _keyframesSent);

    /// <summary>PLI/FIR requests received for this track.</summary>
    public long KeyframeRequestsReceived => Volatile.Read(ref _keyframeRequests);

    internal long _packetsSent;
    internal long _bytesSent;
    internal long _packetsRetransmitted;
    internal long _keyframesSent;
    internal long _keyframeRequests;

    // Send state, sending thread only.
    internal ushort SequenceNumber;
    internal uint Timestamp;
    internal int FramesSent;
    internal ushort PictureId = (ushort)Random.Shared.Next(0, 0x8000);
    internal readonly RtpPacketCache Cache;

    /// <summary>Tests: this many next packets are cached but not put on the wire (a loss the peer must NACK).</summary>
    internal int DropOutgoing;

    /// <summary>Set by the receive thread on PLI/FIR, cleared by the sending thread when it sends a key frame.</summary>
    internal int KeyframePending;
}
