namespace Webinar.Media.Tests.Rtp;

/// <summary>A clock the test moves by hand; timestamps are in microseconds.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _micros = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => _micros;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(_micros * 10);

    public long Micros => _micros;

    public void Advance(TimeSpan by) => _micros += (long)(by.TotalMilliseconds * 1000);
}
