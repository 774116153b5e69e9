namespace Webinar.Media.Srtp;

/// <summary>Per-SSRC cryptographic state inside one <see cref="SrtpSession"/>.</summary>
internal sealed class SrtpStreamState
{
    /// <summary>Roll-over counter (the high 32 bits of the 48-bit packet index) of the highest index so far.</summary>
    public uint RolloverCounter;

    /// <summary>Sequence number of the highest index so far (s_l in RFC 3711).</summary>
    public ushort HighestSequence;

    public bool HasRtp;

    public SrtpReplayWindow RtpWindow;

    /// <summary>Next SRTCP index to send (31 bits).</summary>
    public uint NextRtcpIndex;

    public SrtpReplayWindow RtcpWindow;

    /// <summary>When the stream last authenticated or sent a packet (the session's use counter), for eviction.</summary>
    public long LastUsed;

    public ulong HighestIndex => ((ulong)RolloverCounter << 16) | HighestSequence;

    /// <summary>
    /// Guesses the packet index of <paramref name="sequence"/> (RFC 3711 Appendix A): the candidate of ROC-1, ROC
    /// or ROC+1 closest to the highest index seen.
    /// </summary>
    public ulong EstimateIndex(ushort sequence)
    {
        if (!HasRtp)
        {
            return sequence;
        }

        uint roc = RolloverCounter;
        uint guess = roc;
        if (HighestSequence < 0x8000)
        {
            if (sequence - HighestSequence > 0x8000 && roc > 0)
            {
                guess = roc - 1;
            }
        }
        else if (HighestSequence - 0x8000 > sequence && roc < uint.MaxValue)
        {
            guess = roc + 1;
        }

        return ((ulong)guess << 16) | sequence;
    }

    public void AdvanceTo(ulong index)
    {
        if (!HasRtp || index > HighestIndex)
        {
            HasRtp = true;
            RolloverCounter = (uint)(index >> 16);
            HighestSequence = (ushort)index;
        }
    }
}
