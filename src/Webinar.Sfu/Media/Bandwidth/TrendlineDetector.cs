namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>What the delay trend says about the path.</summary>
internal enum BandwidthUsage : byte
{
    Normal,
    Overusing,
    Underusing,
}

/// <summary>
/// The delay-based half of GCC (draft-ietf-rmcat-gcc §5, libwebrtc's TrendlineEstimator): packets sent within 5 ms
/// form a group; the growth of one group's one-way delay over the previous one is accumulated, smoothed, and a least
/// squares slope over the last 20 groups says whether queues build up. The slope, scaled, is compared with an
/// adaptive threshold; overuse must last 10 ms and two groups. Written from the draft, not from libwebrtc's code.
/// </summary>
internal sealed class TrendlineDetector
{
    private const long GroupMicros = 5_000;
    private const int WindowSize = 20;
    private const double Smoothing = 0.9;
    private const double ThresholdGain = 4.0;
    private const double KUp = 0.0087;
    private const double KDown = 0.039;
    private const double OverusingTimeMs = 10;

    private readonly double[] _x = new double[WindowSize];
    private readonly double[] _y = new double[WindowSize];
    private int _count;
    private int _next;

    private bool _hasGroup;
    private long _groupFirstSend;
    private long _groupLastSend;
    private long _groupLastArrival;
    private bool _hasPrevious;
    private long _previousSend;
    private long _previousArrival;
    private long _firstArrival = long.MinValue;

    private double _accumulated;
    private double _smoothed;
    private double _threshold = 12.5;
    private long _lastThresholdUpdate = long.MinValue;
    private double _previousTrend;
    private double _timeOverusing = -1;
    private int _overuseCount;
    private int _deltas;

    public BandwidthUsage State { get; private set; } = BandwidthUsage.Normal;

    /// <summary>The latest scaled trend (ms), for diagnostics and tests.</summary>
    public double ModifiedTrend { get; private set; }

    public double Threshold => _threshold;

    /// <summary>One packet the subscriber received: our send time and its arrival time (its clock), in µs.</summary>
    public void OnPacket(long sendMicros, long arrivalMicros)
    {
        if (!_hasGroup)
        {
            StartGroup(sendMicros, arrivalMicros);
            return;
        }

        if (sendMicros < _groupFirstSend)
        {
            return; // reordered into an older group
        }

        if (sendMicros - _groupFirstSend <= GroupMicros)
        {
            _groupLastSend = Math.Max(_groupLastSend, sendMicros);
            _groupLastArrival = Math.Max(_groupLastArrival, arrivalMicros);
            return;
        }

        if (_hasPrevious)
        {
            var sendDelta = (_groupLastSend - _previousSend) / 1000.0;
            var arrivalDelta = (_groupLastArrival - _previousArrival) / 1000.0;
            Update(arrivalDelta - sendDelta, arrivalDelta, _groupLastArrival);
        }

        _hasPrevious = true;
        _previousSend = _groupLastSend;
        _previousArrival = _groupLastArrival;
        StartGroup(sendMicros, arrivalMicros);
    }

    private void StartGroup(long sendMicros, long arrivalMicros)
    {
        _hasGroup = true;
        _groupFirstSend = sendMicros;
        _groupLastSend = sendMicros;
        _groupLastArrival = arrivalMicros;
    }

    private void Update(double delayVariationMs, double arrivalDeltaMs, long arrivalMicros)
    {
        if (_firstArrival == long.MinValue)
        {
            _firstArrival = arrivalMicros;
        }

        _deltas = Math.Min(_deltas + 1, 1000);
        _accumulated += delayVariationMs;
        _smoothed = (Smoothing * _smoothed) + ((1 - Smoothing) * _accumulated);
        _x[_next] = (arrivalMicros - _firstArrival) / 1000.0;
        _y[_next] = _smoothed;
        _next = (_next + 1) % WindowSize;
        _count = Math.Min(_count + 1, WindowSize);
        var trend = _count == WindowSize ? Slope() : _previousTrend;
        Detect(trend, arrivalDeltaMs, arrivalMicros);
    }

    private double Slope()
    {
        double meanX = 0, meanY = 0;
        for (var i = 0; i < _count; i++)
        {
            meanX += _x[i];
            meanY += _y[i];
        }

        meanX /= _count;
        meanY /= _count;
        double numerator = 0, denominator = 0;
        for (var i = 0; i < _count; i++)
        {
            numerator += (_x[i] - meanX) * (_y[i] - meanY);
            denominator += (_x[i] - meanX) * (_x[i] - meanX);
        }

        return denominator == 0 ? _previousTrend : numerator / denominator;
    }

    private void Detect(double trend, double deltaMs, long nowMicros)
    {
        var modified = Math.Min(_deltas, 60) * trend * ThresholdGain;
        ModifiedTrend = modified;
        if (modified > _threshold)
        {
            _timeOverusing = _timeOverusing < 0 ? deltaMs / 2 : _timeOverusing + deltaMs;
            _overuseCount++;
            if (_timeOverusing > OverusingTimeMs && _overuseCount > 1 && trend >= _previousTrend)
            {
                _timeOverusing = 0;
                _overuseCount = 0;
                State = BandwidthUsage.Overusing;
            }
        }
        else if (modified < -_threshold)
        {
            _timeOverusing = -1;
            _overuseCount = 0;
            State = BandwidthUsage.Underusing;
        }
        else
        {
            _timeOverusing = -1;
            _overuseCount = 0;
            State = BandwidthUsage.Normal;
        }

        _previousTrend = trend;
        UpdateThreshold(modified, nowMicros);
    }

    private void UpdateThreshold(double modified, long nowMicros)
    {
        if (_lastThresholdUpdate == long.MinValue)
        {
            _lastThresholdUpdate = nowMicros;
        }

        var magnitude = Math.Abs(modified);
        if (magnitude > _threshold + 15)
        {
            _lastThresholdUpdate = nowMicros; // a spike: do not let it drag the threshold up
            return;
        }

        var k = magnitude < _threshold ? KDown : KUp;
        var elapsedMs = Math.Min((nowMicros - _lastThresholdUpdate) / 1000.0, 100);
        _threshold = Math.Clamp(_threshold + (k * (magnitude - _threshold) * elapsedMs), 6, 600);
        _lastThresholdUpdate = nowMicros;
    }
}
