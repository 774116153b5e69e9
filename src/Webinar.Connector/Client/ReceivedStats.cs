using Webinar.Media.Rtp;

namespace Webinar.Connector.Client;

/// <summary>
/// What a <see cref="WebRtcClient"/> received from one remote SSRC. Written by the client's receive thread; the
/// counters can be read from any thread (each read is atomic, the set of them is not a snapshot).
/// </summary>
/// <remarks>
/// The counts keep their own sequence accounting (<see cref="ReceivedSequence"/>), apart from the RFC 3550 receiver
/// statistics the reports carry: those restart their base when two packets in a row arrive far out of order (a source
/// restart by RFC 3550 A.1), which is right for a report's fraction lost but made the cumulative counts here jump.
/// A padding-only packet (the node probing the downlink) takes a sequence number without carrying media: it fills its
/// place in the sequence (not a loss) and is not a delivered media packet.
/// </remarks>
public sealed class ReceivedStats
{
    private readonly ReceivedSequence _sequence = new();
    private long _packets;
    private long _bytes;
    private long _keyframes;
    private long _lost;
    private long _duplicates;
    private long _padding;
    private long _expected;

    internal ReceivedStats(uint ssrc, ClientTrack? track)
    {
        Ssrc = ssrc;
        Track = track;
        Statistics = new RtpReceiveStatistics(ssrc, track?.ClockRate ?? 90000);
    }

    public uint Ssrc { get; }

    /// <summary>The m-line it arrived on (by payload type), or null when no track matched.</summary>
    public ClientTrack? Track { get; }

    /// <summary>Media packets received (authenticated and decrypted unless header-only), duplicates included, padding-only packets not.</summary>
    public long Packets => Volatile.Read(ref _packets);

    /// <summary>RTP payload bytes of those packets (headers and padding excluded).</summary>
    public long PayloadBytes => Volatile.Read(ref _bytes);

    /// <summary>Media packets whose sequence number had already arrived (a retransmission of one that was not lost).</summary>
    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Padding-only packets (no payload): sequence numbers that arrived without media.</summary>
    public long PaddingPackets => Volatile.Read(ref _padding);

    /// <summary>Sequence numbers from the lowest to the highest seen (what the sender numbered, media and padding).</summary>
    public long Expected => Volatile.Read(ref _expected);

    /// <summary>Sequence numbers missing (expected − distinct arrived, media or padding); retransmissions fill gaps, duplicates do not.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>VP8 key frames seen (first packet of a key frame).</summary>
    public long Keyframes => Volatile.Read(ref _keyframes);

    internal RtpReceiveStatistics Statistics { get; }

    /// <summary>The lost sequence numbers this client asks for again (video, when the client sends NACKs), or null.</summary>
    internal Webinar.Media.Rtcp.NackGenerator? Nacks { get; init; }

    /// <summary>One RTP packet; <paramref name="padding"/>: padding only, no media.</summary>
    internal void OnPacket(ushort sequenceNumber, uint timestamp, int payloadLength, bool keyframe, long arrivalMicros, bool padding = false)
    {
        Statistics.OnPacket(sequenceNumber, timestamp, arrivalMicros);
        bool first = _sequence.OnPacket(sequenceNumber);
        if (padding)
        {
            if (first)
            {
                Volatile.Write(ref _padding, _padding + 1);
            }
        }
        else
        {
            if (!first)
            {
                Volatile.Write(ref _duplicates, _duplicates + 1);
            }

            Volatile.Write(ref _packets, _packets + 1);
            Volatile.Write(ref _bytes, _bytes + payloadLength);
            if (keyframe)
            {
                Volatile.Write(ref _keyframes, _keyframes + 1);
            }
        }

        Volatile.Write(ref _expected, _sequence.Expected);
        Volatile.Write(ref _lost, _sequence.Lost);
    }
}

/// <summary>
/// Which sequence numbers of one stream arrived: each 16-bit number extended by the nearest value to the highest
/// seen (RFC 3550 A.1's idea without its restart rule), the lowest and highest extended numbers, and a window of the
/// last <see cref="WindowSize"/> numbers to tell a repeat from a first arrival. Expected is highest − lowest + 1;
/// lost is expected − distinct arrivals. A number older than the window cannot be told from a repeat any more and
/// counts as one, unless it is below the lowest seen (a packet reordered before the first). One thread.
/// </summary>
internal sealed class ReceivedSequence
{
    public const int WindowSize = 4096;

    private readonly ulong[] _seen = new ulong[WindowSize / 64];
    private long _lowest;
    private long _highest = -1;
    private long _distinct;

    public long Expected => _highest < 0 ? 0 : _highest - _lowest + 1;

    public long Distinct => _distinct;

    public long Lost => Math.Max(0, Expected - _distinct);

    /// <summary>Records one arrival; false when this sequence number had already arrived.</summary>
    public bool OnPacket(ushort sequenceNumber)
    {
        long extended;
        if (_highest < 0)
        {
            // Far from zero so that a packet reordered before the first one cannot make the number negative.
            extended = 0x10000L * 16 + sequenceNumber;
            _lowest = extended;
            _highest = extended;
            Mark(extended);
            _distinct = 1;
            return true;
        }

        extended = (_highest & ~0xFFFFL) | sequenceNumber;
        if (extended > _highest + 0x8000)
        {
            extended -= 0x10000;
        }
        else if (extended < _highest - 0x8000)
        {
            extended += 0x10000;
        }

        if (extended > _highest)
        {
            for (long clear = Math.Max(_highest + 1, extended - WindowSize + 1); clear <= extended; clear++)
            {
                _seen[(clear % WindowSize) >> 6] &= ~(1UL << (int)(clear & 63));
            }

            _highest = extended;
            Mark(extended);
            _distinct++;
            return true;
        }

        if (extended <= _highest - WindowSize)
        {
            // Older than the window: a first arrival only if it extends the start (reordered before the first packet).
            if (extended < _lowest)
            {
                _lowest = extended;
                _distinct++;
                return true;
            }

            return false;
        }

        if (IsMarked(extended))
        {
            return false;
        }

        Mark(extended);
        if (extended < _lowest)
        {
            _lowest = extended;
        }

        _distinct++;
        return true;
    }

    private void Mark(long extended) => _seen[(extended % WindowSize) >> 6] |= 1UL << (int)(extended & 63);

    private bool IsMarked(long extended) => (_seen[(extended % WindowSize) >> 6] & (1UL << (int)(extended & 63))) != 0;
}
