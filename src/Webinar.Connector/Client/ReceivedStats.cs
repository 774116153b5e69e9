using Webinar.Media.Rtp;

namespace Webinar.Connector.Client;

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
    private long _duplicates;

    // Which of the last WindowBits extended sequence numbers arrived, to tell retransmitted duplicates apart.
    private const int WindowBits = 1024;
    private readonly ulong[] _seen = new ulong[WindowBits / 64];
    private long _highest = -1;

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

    /// <summary>Packets whose sequence number had already arrived (a retransmission of one that was not lost).</summary>
    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Packets missing from the sequence (expected − distinct received); retransmissions fill gaps, duplicates do not.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>VP8 key frames seen (first packet of a key frame).</summary>
    public long Keyframes => Volatile.Read(ref _keyframes);

    internal RtpReceiveStatistics Statistics { get; }

    internal void OnPacket(ushort sequenceNumber, uint timestamp, int payloadLength, bool keyframe, long arrivalMicros)
    {
        Statistics.OnPacket(sequenceNumber, timestamp, arrivalMicros);
        if (IsDuplicate(Statistics.ExtendedHighestSequenceNumber, sequenceNumber))
        {
            Volatile.Write(ref _duplicates, _duplicates + 1);
        }

        Volatile.Write(ref _packets, _packets + 1);
        Volatile.Write(ref _bytes, _bytes + payloadLength);
        Volatile.Write(ref _lost, Math.Max(0, Statistics.Expected - (_packets - _duplicates)));
        if (keyframe)
        {
            Volatile.Write(ref _keyframes, _keyframes + 1);
        }
    }

    private bool IsDuplicate(long extendedHighest, ushort sequenceNumber)
    {
        // The packet's extended number: the one nearest the highest seen with these low 16 bits.
        long extended = (extendedHighest & ~0xFFFFL) | sequenceNumber;
        if (extended > extendedHighest + 0x8000)
        {
            extended -= 0x10000;
        }
        else if (extended < extendedHighest - 0x8000)
        {
            extended += 0x10000;
        }

        if (_highest >= 0 && extended <= _highest - WindowBits)
        {
            return false; // too old to tell
        }

        if (extended > _highest)
        {
            for (long clear = Math.Max(_highest + 1, extended - WindowBits + 1); clear <= extended; clear++)
            {
                _seen[(clear % WindowBits) / 64] &= ~(1UL << (int)(clear % 64));
            }

            _highest = extended;
        }

        int index = (int)(extended % WindowBits);
        ulong bit = 1UL << (index % 64);
        bool seen = (_seen[index / 64] & bit) != 0;
        _seen[index / 64] |= bit;
        return seen;
    }
}
