namespace Webinar.Media.Rtp;

/// <summary>Limits on what one subscriber's NACKs may make a sender resend (see <see cref="RetransmissionLimiter"/>).</summary>
public sealed record RetransmissionOptions
{
    /// <summary>
    /// A packet is resent at most once per this interval, however often it is asked for: about one round trip, the
    /// time a retransmission needs to arrive before asking again makes sense (mediasoup and libwebrtc use the RTT).
    /// </summary>
    public TimeSpan MinResendInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Sustained retransmission rate allowed per subscriber, in bytes per second (2 Mbit/s).</summary>
    public int BytesPerSecond { get; init; } = 250_000;

    /// <summary>Burst allowed on top of the rate, in bytes (about 50 full packets).</summary>
    public int BurstBytes { get; init; } = 64 * 1024;

    /// <summary>Sent video packets kept per subscriber for NACKs: about two seconds of 1.5 Mbit/s video (rounded up to a power of two).</summary>
    public int VideoCacheSize { get; init; } = 512;

    /// <summary>Sent audio packets kept per subscriber: audio is answered without NACK, so a few suffice (rounded up to a power of two).</summary>
    public int AudioCacheSize { get; init; } = 16;
}

/// <summary>Why a requested retransmission was or was not sent.</summary>
public enum RetransmissionDecision
{
    Send,

    /// <summary>The packet was resent less than <see cref="RetransmissionOptions.MinResendInterval"/> ago (a duplicate).</summary>
    Repeated,

    /// <summary>The subscriber's retransmission byte budget is spent for now.</summary>
    OverBudget,
}

/// <summary>
/// The sender side's defence against NACK amplification, per subscriber: each packet is resent at most once per
/// round trip (so duplicates in one NACK, or the same NACK sent again and again, cost nothing), and all resends share
/// a token bucket of bytes (libwebrtc's retransmission rate limiter; mediasoup's <c>resentAtMs</c> check). Slots are
/// keyed like <see cref="RtpPacketCache"/>: by outgoing sequence number modulo a power-of-two capacity, tagged with the
/// number. Not thread-safe: the consumer's sending thread only. No allocation after construction.
/// </summary>
public sealed class RetransmissionLimiter
{
    private readonly TimeProvider _time;
    private readonly long[] _resentAt;
    private readonly ushort[] _sequenceNumbers;
    private readonly bool[] _used;
    private readonly int _mask;
    private readonly long _minInterval;
    private readonly double _bytesPerTick;
    private readonly double _burst;
    private double _tokens;
    private long _refilledAt;

    public RetransmissionLimiter(int capacity, TimeProvider time, RetransmissionOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(time);
        options ??= new RetransmissionOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.BytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(options.BurstBytes);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _time = time;
        _resentAt = new long[size];
        _sequenceNumbers = new ushort[size];
        _used = new bool[size];
        _mask = size - 1;
        _minInterval = (long)(options.MinResendInterval.TotalSeconds * time.TimestampFrequency);
        _bytesPerTick = (double)options.BytesPerSecond / time.TimestampFrequency;
        _burst = options.BurstBytes;
        _tokens = _burst;
        _refilledAt = time.GetTimestamp();
    }

    /// <summary>Decides whether the packet <paramref name="sequenceNumber"/> of <paramref name="length"/> bytes is resent now, and records it when it is.</summary>
    public RetransmissionDecision Admit(ushort sequenceNumber, int length)
    {
        long now = _time.GetTimestamp();
        int slot = sequenceNumber & _mask;
        if (_used[slot] && _sequenceNumbers[slot] == sequenceNumber && now - _resentAt[slot] < _minInterval)
        {
            return RetransmissionDecision.Repeated;
        }

        if (now > _refilledAt)
        {
            _tokens = Math.Min(_burst, _tokens + ((now - _refilledAt) * _bytesPerTick));
            _refilledAt = now;
        }

        if (_tokens < length)
        {
            return RetransmissionDecision.OverBudget;
        }

        _tokens -= length;
        _used[slot] = true;
        _sequenceNumbers[slot] = sequenceNumber;
        _resentAt[slot] = now;
        return RetransmissionDecision.Send;
    }
}
