using Webinar.Media.Rtp;

namespace Webinar.Media.Client;

/// <summary>
/// What a <see cref="WebRtcClient"/> received from one remote SSRC. Written by the client's receive thread; the
/// counters can be read from any thread (each read is atomic, the set of them is not a snapshot).
/// </summary>
public sealed class ReceivedStats
{
    private long _packets;
    private long _bytes;
    private long _keyframes;
    private long _lost;

    internal ReceivedStats(uint ssrc, ClientTrack? track)
    {
        Ssrc = ssrc;
        Track = track;
        Statistics = new RtpReceiveStatistics(ssrc, track?.ClockRate ?? 90000);
    }

    public uint Ssrc { get; }

    /// <summary>The m-line it arrived on (by payload type), or null when no track matched.</summary>
    public ClientTrack? Track { get; }

    /// <summary>Authenticated, decrypted RTP packets.</summary>
    public long Packets => Volatile.Read(ref _packets);

    /// <summary>RTP payload bytes of those packets (headers and padding excluded).</summary>
    public long PayloadBytes => Volatile.Read(ref _bytes);

    /// <summary>Packets missing from the sequence (expected − received, RFC 3550 A.3); retransmissions fill gaps.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>VP8 key frames seen (first packet of a key frame).</summary>
    public long Keyframes => Volatile.Read(ref _keyframes);

    internal RtpReceiveStatistics Statistics { get; }

    internal void OnPacket(ushort sequenceNumber, uint timestamp, int payloadLength, bool keyframe, long arrivalMicros)
    {
        Statistics.OnPacket(sequenceNumber, timestamp, arrivalMicros);
        Volatile.Write(ref _packets, _packets + 1);
        Volatile.Write(ref _bytes, _bytes + payloadLength);
        Volatile.Write(ref _lost, Math.Max(0, Statistics.CumulativeLost));
        if (keyframe)
        {
            Volatile.Write(ref _keyframes, _keyframes + 1);
        }
    }
}
