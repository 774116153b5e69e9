using Webinar.Media.Rtcp;

namespace Webinar.Media.Rtp;

/// <summary>
/// Reception statistics of one incoming stream (RFC 3550 A.1, A.3, A.8): extended highest sequence number,
/// cumulative and fractional loss, interarrival jitter, and the LSR/DLSR pair, enough for a receiver report block.
/// Not thread-safe: feed it from the stream's receive path and build reports on the same thread.
/// </summary>
public sealed class RtpReceiveStatistics
{
    private const int MaxDropout = 3000;
    private const int MaxMisorder = 100;

    private readonly uint _clockRate;
    private bool _started;
    private ushort _maxSeq;
    private uint _cycles;        // count of wraps, shifted left 16
    private uint _baseSeq;
    private uint _badSeq = uint.MaxValue;
    private long _received;
    private long _expectedPrior;
    private long _receivedPrior;
    private long _lastTransit;
    private bool _hasTransit;
    private long _jitterQ4;      // jitter in timestamp units, scaled by 16
    private uint _lastSrNtpMiddle;
    private long _lastSrArrivalMicros;
    private bool _hasSenderReport;

    public RtpReceiveStatistics(uint ssrc, uint clockRate)
    {
        ArgumentOutOfRangeException.ThrowIfZero(clockRate);
        Ssrc = ssrc;
        _clockRate = clockRate;
    }

    public uint Ssrc { get; }

    public long PacketsReceived => _received;

    /// <summary>Cycles in the high 16 bits, highest sequence number in the low 16 (the report block field).</summary>
    public uint ExtendedHighestSequenceNumber => _cycles + _maxSeq;

    public long Expected => _started ? (long)ExtendedHighestSequenceNumber - _baseSeq + 1 : 0;

    /// <summary>Expected minus received; negative when duplicates arrived.</summary>
    public long CumulativeLost => Expected - _received;

    /// <summary>Interarrival jitter in timestamp units.</summary>
    public uint Jitter => (uint)(_jitterQ4 >> 4);

    /// <summary>Records one packet; arrival time in microseconds from any fixed origin (a monotonic clock).</summary>
    public void OnPacket(ushort sequenceNumber, uint rtpTimestamp, long arrivalMicros)
    {
        if (!_started)
        {
            Restart(sequenceNumber);
            _started = true;
        }
        else
        {
            ushort delta = (ushort)(sequenceNumber - _maxSeq);
            if (delta < MaxDropout)
            {
                if (sequenceNumber < _maxSeq)
                {
                    _cycles += 1u << 16;
                }

                _maxSeq = sequenceNumber;
            }
            else if (delta <= 65536 - MaxMisorder)
            {
                // A very large jump: accept it only when the next packet confirms it (the source restarted).
                if (sequenceNumber == _badSeq)
                {
                    Restart(sequenceNumber);
                }
                else
                {
                    _badSeq = (uint)((sequenceNumber + 1) & 0xFFFF);
                    return;
                }
            }

            // Otherwise a duplicate or reordered packet: counted, no change to the maximum.
        }

        _received++;
        UpdateJitter(rtpTimestamp, arrivalMicros);
    }

    /// <summary>Records a sender report of this stream (its NTP time) for the LSR/DLSR fields.</summary>
    public void OnSenderReport(ulong ntpTimestamp, long arrivalMicros)
    {
        _lastSrNtpMiddle = (uint)(ntpTimestamp >> 16);
        _lastSrArrivalMicros = arrivalMicros;
        _hasSenderReport = true;
    }

    /// <summary>Builds the report block and starts a new interval for the fraction lost.</summary>
    public ReportBlock CreateReportBlock(long nowMicros)
    {
        long expected = Expected;
        long expectedInterval = expected - _expectedPrior;
        long receivedInterval = _received - _receivedPrior;
        _expectedPrior = expected;
        _receivedPrior = _received;
        long lostInterval = expectedInterval - receivedInterval;
        byte fraction = expectedInterval == 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);
        int cumulative = (int)Math.Clamp(CumulativeLost, -0x800000, 0x7FFFFF);
        uint delay = 0;
        if (_hasSenderReport && nowMicros > _lastSrArrivalMicros)
        {
            delay = (uint)Math.Min(uint.MaxValue, (nowMicros - _lastSrArrivalMicros) * 65536 / 1_000_000);
        }

        return new ReportBlock(Ssrc, fraction, cumulative, ExtendedHighestSequenceNumber, Jitter,
            _hasSenderReport ? _lastSrNtpMiddle : 0, delay);
    }

    private void Restart(ushort sequenceNumber)
    {
        _baseSeq = sequenceNumber;
        _maxSeq = sequenceNumber;
        _badSeq = uint.MaxValue;
        _cycles = 0;
        _received = 0;
        _expectedPrior = 0;
        _receivedPrior = 0;
        _hasTransit = false;
    }

    private void UpdateJitter(uint rtpTimestamp, long arrivalMicros)
    {
        long arrival = arrivalMicros * _clockRate / 1_000_000;
        long transit = (uint)arrival - (long)rtpTimestamp;
        if (_hasTransit)
        {
            long d = Math.Abs((long)(int)(transit - _lastTransit));
            _jitterQ4 += d - ((_jitterQ4 + 8) >> 4);
        }

        _lastTransit = transit;
        _hasTransit = true;
    }
}
