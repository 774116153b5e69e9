namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// Bits per second over the last second, in ten 100 ms buckets (what a layer or a subscriber's link carries). No
/// allocation per packet. Loop thread only.
/// </summary>
internal sealed class BitrateMeter
{
    private const int Buckets = 10;
    private const long BucketMicros = 100_000;

    private readonly long[] _bytes = new long[Buckets];
    private long _bucket = long.MinValue;
    private long _sum;

    public void Add(int bytes, long nowMicros)
    {
        Advance(nowMicros);
        _bytes[(int)(_bucket % Buckets)] += bytes;
        _sum += bytes;
    }

    /// <summary>Bits per second over the last second.</summary>
    public long BitsPerSecond(long nowMicros)
    {
        Advance(nowMicros);
        return _sum * 8;
    }

    private void Advance(long nowMicros)
    {
        long bucket = nowMicros / BucketMicros;
        if (_bucket == long.MinValue || bucket - _bucket >= Buckets)
        {
            Array.Clear(_bytes);
            _sum = 0;
            _bucket = bucket;
            return;
        }

        while (_bucket < bucket)
        {
            _bucket++;
            var index = (int)(_bucket % Buckets);
            _sum -= _bytes[index];
            _bytes[index] = 0;
        }
    }
}
