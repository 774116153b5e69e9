namespace Webinar.Media.Rtp;

/// <summary>SSRCs a sender picks for itself (RFC 3550 §8.1: random, never 0).</summary>
public static class RtpSsrc
{
    public static uint NewRandom() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);
}
