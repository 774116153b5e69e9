using Webinar.Media.Rtcp;

namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// One subscriber's downlink estimate from its transport-wide congestion control feedback, GCC-like
/// (draft-ietf-rmcat-gcc): a delay-based rate (<see cref="TrendlineDetector"/> driving AIMD: ×0.85 of the acknowledged
/// rate on overuse, +8 %/s while normal, capped at 1.5× what was acknowledged) and a loss-based bound (more than 10 %
/// lost: ×(1 − loss/2); under 2 %: out of the way). The estimate is the smaller, within the options' bounds. A probe
/// (padding sent in a burst) that gets through without overuse lifts the delay-based rate to what it measured.
/// Loop thread only.
/// </summary>
internal sealed class BandwidthEstimator
{
    private const long DecreaseIntervalMicros = 200_000;
    private const long LossIntervalMicros = 300_000;
    private const int MinLossPackets = 20;

    private readonly BandwidthOptions _options;
    private readonly TrendlineDetector _trendline = new();
    private readonly BitrateMeter _acked = new();
    private double _delayRate;
    private double _lossRate;
    private long _lastUpdate = long.MinValue;
    private long _lastDecrease = long.MinValue;
    private long _lastLossUpdate = long.MinValue;
    private int _lossWindowReceived;
    private int _lossWindowLost;

    private bool _probing;
    private long _probeStart;
    private long _probeEnd;
    private long _probeBytes;
    private long _probeFirstArrival = long.MaxValue;
    private long _probeLastArrival = long.MinValue;
    private bool _probeOverused;

    public BandwidthEstimator(BandwidthOptions options)
    {
        _options = options;
        History = new SendHistory(options.SendHistoryCapacity);
        _delayRate = options.InitialBitrate;
        _lossRate = options.MaxBitrate;
    }

    public SendHistory History { get; }

    /// <summary>The estimate, bits/s.</summary>
    public long Estimate => (long)Math.Clamp(Math.Min(_delayRate, _lossRate), _options.MinBitrate, _options.MaxBitrate);

    public BandwidthUsage Usage => _trendline.State;

    /// <summary>Loss over the last evaluated window (0–1).</summary>
    public double LossFraction { get; private set; }

    /// <summary>
    /// The subscriber's feedback has shown heavy loss (more than 10 % of a window) at least once: the downlink really
    /// cannot carry what is sent. Delay alone is not enough to pause a video (CPU starvation on either end makes
    /// delay look like overuse); it only moves simulcast down a layer.
    /// </summary>
    public bool HasSeenHeavyLoss { get; private set; }

    /// <summary>Feedback packets read (diagnostics).</summary>
    public long FeedbackCount { get; private set; }

    /// <summary>Bits/s the subscriber acknowledged over the last second.</summary>
    public long AckedBitrate(long nowMicros) => _acked.BitsPerSecond(nowMicros);

    /// <summary>Reads one transport-wide feedback packet the subscriber sent.</summary>
    public void OnFeedback(RtcpTransportFeedback feedback, long nowMicros)
    {
        FeedbackCount++;
        foreach (var entry in feedback)
        {
            if (!History.TryGet(entry.SequenceNumber, out var sendMicros, out var size))
            {
                continue;
            }

            if (!entry.Received)
            {
                _lossWindowLost++;
                continue;
            }

            _lossWindowReceived++;
            _acked.Add(size, nowMicros);
            _trendline.OnPacket(sendMicros, entry.ReceiveTimeMicros);
            if (_probing && sendMicros >= _probeStart && sendMicros <= _probeEnd)
            {
                _probeBytes += size;
                _probeFirstArrival = Math.Min(_probeFirstArrival, entry.ReceiveTimeMicros);
                _probeLastArrival = Math.Max(_probeLastArrival, entry.ReceiveTimeMicros);
                _probeOverused |= _trendline.State == BandwidthUsage.Overusing;
            }
        }

        Update(nowMicros);
    }

    /// <summary>A probe runs from now for <paramref name="durationMicros"/>; its result is read once its feedback is in.</summary>
    public void StartProbe(long nowMicros, long durationMicros)
    {
        _probing = true;
        _probeStart = nowMicros;
        _probeEnd = nowMicros + durationMicros;
        _probeBytes = 0;
        _probeFirstArrival = long.MaxValue;
        _probeLastArrival = long.MinValue;
        _probeOverused = false;
    }

    public bool IsProbing => _probing;

    private void Update(long nowMicros)
    {
        var elapsed = _lastUpdate == long.MinValue ? 0 : Math.Min(nowMicros - _lastUpdate, 1_000_000);
        _lastUpdate = nowMicros;
        var acked = (double)_acked.BitsPerSecond(nowMicros);
        switch (_trendline.State)
        {
            case BandwidthUsage.Overusing:
                if (_lastDecrease == long.MinValue || nowMicros - _lastDecrease >= DecreaseIntervalMicros)
                {
                    _lastDecrease = nowMicros;
                    _delayRate = Math.Max(_options.MinBitrate, 0.85 * (acked > 0 ? Math.Min(acked, _delayRate) : _delayRate));
                }

                break;
            case BandwidthUsage.Normal:
                var increased = _delayRate * (1 + (0.08 * elapsed / 1_000_000.0));
                var cap = (1.5 * acked) + 10_000;
                if (increased <= cap || _delayRate < _options.InitialBitrate)
                {
                    _delayRate = Math.Min(increased, Math.Max(cap, _options.InitialBitrate));
                }

                break;
        }

        UpdateLoss(nowMicros);
        FinishProbe(nowMicros);
        _delayRate = Math.Clamp(_delayRate, _options.MinBitrate, _options.MaxBitrate);
    }

    private void UpdateLoss(long nowMicros)
    {
        var total = _lossWindowLost + _lossWindowReceived;
        if (total < MinLossPackets || (_lastLossUpdate != long.MinValue && nowMicros - _lastLossUpdate < LossIntervalMicros))
        {
            return;
        }

        _lastLossUpdate = nowMicros;
        LossFraction = (double)_lossWindowLost / total;
        _lossWindowLost = 0;
        _lossWindowReceived = 0;
        if (LossFraction > 0.10)
        {
            HasSeenHeavyLoss = true;
            _lossRate = Math.Max(_options.MinBitrate, Math.Min(_lossRate, Estimate) * (1 - (0.5 * LossFraction)));
        }
        else if (LossFraction < 0.02)
        {
            // Little loss: the delay-based rate decides; the loss bound follows it up with room to spare.
            _lossRate = Math.Min(_options.MaxBitrate, Math.Max(_lossRate * 1.08, _delayRate * 1.5));
        }
    }

    private void FinishProbe(long nowMicros)
    {
        if (!_probing || nowMicros < _probeEnd + 300_000)
        {
            return;
        }

        _probing = false;
        var span = _probeLastArrival - _probeFirstArrival;
        if (_probeOverused || span < 50_000 || _trendline.State == BandwidthUsage.Overusing || LossFraction > 0.05)
        {
            return;
        }

        var measured = _probeBytes * 8 * 1_000_000.0 / span;
        _delayRate = Math.Max(_delayRate, 0.9 * measured);
        _lossRate = Math.Max(_lossRate, _delayRate * 1.5);
    }
}
