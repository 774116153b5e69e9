using Webinar.Media.Rtcp;
using Webinar.Media.Rtp;

namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// Congestion control toward one browser: every packet sent gets the next transport-wide sequence number (when the
/// browser negotiated the extension and the packet carries its element), the browser's feedback drives the
/// <see cref="BandwidthEstimator"/>, the <see cref="SubscriberAllocator"/> re-picks layers on a fixed interval, and a
/// probe pads the link, paced per tick, when the preferred layers need more than the estimate. Loop thread only.
/// </summary>
internal sealed class SubscriberBandwidth
{
    private const int PaddingPacketBytes = 255;

    private readonly BandwidthOptions _options;
    private readonly long _allocationMicros;
    private long _nextAllocation;
    private long _lastProbe = long.MinValue;
    private long _probeUntil;
    private long _probeBitrate;
    private long _lastPaddingMicros;

    public SubscriberBandwidth(BandwidthOptions options, IAllocationListener listener)
    {
        _options = options;
        Estimator = new BandwidthEstimator(options);
        Allocator = new SubscriberAllocator(options, listener);
        _allocationMicros = (long)options.AllocationInterval.TotalMicroseconds;
    }

    public BandwidthEstimator Estimator { get; }

    public SubscriberAllocator Allocator { get; }

    /// <summary>The browser's id for transport-wide sequence numbers (0: not negotiated, nothing is estimated).</summary>
    public byte ExtensionId { get; set; }

    /// <summary>Probes started (diagnostics, benchmarks).</summary>
    public int Probes { get; private set; }

    public void OnSending(Span<byte> packet, long nowMicros)
    {
        if (ExtensionId == 0 || !RtpPacket.TryParse(packet, out var view) || !view.TryGetExtension(ExtensionId, out var value)
            || value.Length != RtpExtensions.TransportSequenceNumberLength)
        {
            return;
        }

        RtpExtensions.TryWriteTransportSequenceNumber(value, Estimator.History.OnSent(packet.Length, nowMicros));
    }

    public void OnFeedback(RtcpTransportFeedback feedback, long nowMicros) => Estimator.OnFeedback(feedback, nowMicros);

    public void OnTick(IEnumerable<Consumer> consumers, long nowMicros)
    {
        if (ExtensionId == 0)
        {
            return;
        }

        if (nowMicros >= _nextAllocation)
        {
            _nextAllocation = nowMicros + _allocationMicros;
            var estimate = Estimator.Estimate;
            Allocator.Allocate(consumers, estimate, nowMicros, Estimator.HasSeenHeavyLoss);
            MaybeStartProbe(estimate, nowMicros);
        }

        if (nowMicros < _probeUntil)
        {
            Pad(consumers, nowMicros);
        }
    }

    private void MaybeStartProbe(long estimate, long nowMicros)
    {
        var desired = Allocator.Desired;
        if (desired <= estimate || Estimator.Usage == BandwidthUsage.Overusing || nowMicros < _probeUntil
            || (_lastProbe != long.MinValue && nowMicros - _lastProbe < (long)_options.ProbeInterval.TotalMicroseconds))
        {
            return;
        }

        var target = Math.Min((long)(desired * 1.2), (long)(estimate * _options.ProbeMaxMultiple));
        var sending = Allocator.Allocated;
        _probeBitrate = Math.Max(0, target - sending);
        if (_probeBitrate < 20_000)
        {
            return;
        }

        _lastProbe = nowMicros;
        _lastPaddingMicros = nowMicros;
        var duration = (long)_options.ProbeDuration.TotalMicroseconds;
        _probeUntil = nowMicros + duration;
        Estimator.StartProbe(nowMicros, duration);
        Probes++;
    }

    private void Pad(IEnumerable<Consumer> consumers, long nowMicros)
    {
        Consumer? carrier = null;
        foreach (var consumer in consumers)
        {
            if (consumer.Producer.Kind == Sessions.MediaKind.Video && consumer.HasSent && !consumer.IsClosed)
            {
                carrier = consumer;
                break;
            }
        }

        var elapsed = nowMicros - _lastPaddingMicros;
        _lastPaddingMicros = nowMicros;
        if (carrier is null || elapsed <= 0)
        {
            return;
        }

        var bytes = _probeBitrate * Math.Min(elapsed, 50_000) / 8 / 1_000_000;
        for (; bytes > 0; bytes -= PaddingPacketBytes + 32)
        {
            if (!carrier.TrySendPadding(PaddingPacketBytes, ExtensionId))
            {
                return;
            }
        }
    }
}
