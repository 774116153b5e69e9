using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media.Bandwidth;

namespace Webinar.Sfu.Media.Simulcast;

/// <summary>
/// One simulcast encoding of a producer (RFC 8853): its RID, the SSRC it arrives on (learnt from the first packet that
/// carries the RID header extension), and what the node keeps per received RTP stream — statistics for receiver
/// reports, NACKs, the last sender report and the bitrate the allocator reads. <see cref="Index"/> 0 is the lowest
/// resolution (the order of a=simulcast). Loop thread only.
/// </summary>
internal sealed class ProducerLayer
{
    private readonly uint _clockRate;

    public ProducerLayer(int index, string rid, uint clockRate, TimeProvider time)
    {
        Index = index;
        Rid = rid;
        RidBytes = System.Text.Encoding.ASCII.GetBytes(rid);
        _clockRate = clockRate;
        Statistics = new RtpReceiveStatistics(0, clockRate);
        Nacks = new NackGenerator(time);
    }

    public int Index { get; }

    public string Rid { get; }

    /// <summary>The RID in ASCII, compared against the RID header extension without allocating.</summary>
    public byte[] RidBytes { get; }

    /// <summary>0 until the first packet naming this RID arrived.</summary>
    public uint Ssrc { get; private set; }

    /// <summary>The SSRC of this encoding's retransmission stream (RTX naming the RID as repaired RID); 0 until one arrived.</summary>
    public uint RtxSsrc { get; set; }

    public RtpReceiveStatistics Statistics { get; private set; }

    public NackGenerator Nacks { get; }

    public BitrateMeter Bitrate { get; } = new();

    /// <summary>What each VP8 temporal layer of this encoding carries.</summary>
    public TemporalBitrates Temporal { get; } = new();

    public long LastPacketMicros { get; private set; } = long.MinValue;

    public ulong LastSenderReportNtp { get; private set; }

    public uint LastSenderReportRtp { get; private set; }

    public bool HasSenderReport { get; private set; }

    public void Bind(uint ssrc)
    {
        Ssrc = ssrc;
        Statistics = new RtpReceiveStatistics(ssrc, _clockRate);
        HasSenderReport = false;
    }

    /// <summary>Bookkeeping for one received packet; true when the gap is too large to NACK (only a keyframe helps).</summary>
    public bool OnPacket(RtpPacket view, long nowMicros)
    {
        Statistics.OnPacket(view.SequenceNumber, view.Timestamp, nowMicros);
        Bitrate.Add(view.Length, nowMicros);
        LastPacketMicros = nowMicros;
        return Nacks.OnPacket(view.SequenceNumber);
    }

    public void OnSenderReport(ulong ntp, uint rtp, long nowMicros)
    {
        Statistics.OnSenderReport(ntp, nowMicros);
        LastSenderReportNtp = ntp;
        LastSenderReportRtp = rtp;
        HasSenderReport = true;
    }

    /// <summary>Packets arrived within <paramref name="windowMicros"/>: the publisher still sends this encoding.</summary>
    public bool IsActive(long nowMicros, long windowMicros) =>
        Ssrc != 0 && LastPacketMicros != long.MinValue && nowMicros - LastPacketMicros <= windowMicros;
}
