namespace Webinar.TestSupport.Network;

/// <summary>
/// One direction of an emulated link, as netem would shape it: a fixed one-way delay, uniform jitter of up to
/// ±<see cref="Jitter"/>, and independent random loss. <see cref="Seed"/> makes the loss pattern repeatable.
/// Jitter never reorders packets (a datagram is never released before the one sent ahead of it), which is how most
/// real paths behave and what a jitter buffer expects.
/// </summary>
public sealed record LinkProfile(TimeSpan OneWayDelay, TimeSpan Jitter = default, double LossRate = 0, int Seed = 1)
{
    public static readonly LinkProfile Direct = new(TimeSpan.Zero);

    /// <summary>A symmetric link of the given round-trip time: half of it each way.</summary>
    public static LinkProfile FromRtt(TimeSpan rtt, double lossRate = 0, int seed = 1) =>
        new(rtt / 2, default, lossRate, seed);

    public void Validate()
    {
        if (OneWayDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(OneWayDelay), "A delay cannot be negative.");
        }

        if (Jitter < TimeSpan.Zero || Jitter > OneWayDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(Jitter), "Jitter must be between zero and the one-way delay.");
        }

        if (LossRate is < 0 or > 1 || double.IsNaN(LossRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LossRate), "Loss is a fraction between 0 and 1.");
        }
    }
}
