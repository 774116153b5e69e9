namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>
/// What each VP8 temporal layer of one received stream carries (TID 0–3, RFC 7741), so the allocator can tell what
/// the stream needs at a lower frame rate: <see cref="UpTo"/>(t) is the bitrate of layers 0..t, all a subscriber
/// receives when the node forwards nothing above t. A stream without temporal layers counts nothing here. Loop thread only.
/// </summary>
internal sealed class TemporalBitrates
{
    /// <summary>VP8 carries TID in two bits.</summary>
    public const int MaxLayers = 4;

    private readonly BitrateMeter[] _layers = [new(), new(), new(), new()];

    public void Add(int temporalLayer, int bytes, long nowMicros)
    {
        if ((uint)temporalLayer < MaxLayers)
        {
            _layers[temporalLayer].Add(bytes, nowMicros);
        }
    }

    /// <summary>The highest temporal layer that carried anything in the last second; -1 when none did (no temporal layers).</summary>
    public int HighestActive(long nowMicros)
    {
        for (var t = MaxLayers - 1; t >= 0; t--)
        {
            if (_layers[t].BitsPerSecond(nowMicros) > 0)
            {
                return t;
            }
        }

        return -1;
    }

    /// <summary>Bits per second of temporal layers 0..<paramref name="temporalLayer"/> over the last second.</summary>
    public long UpTo(int temporalLayer, long nowMicros)
    {
        long sum = 0;
        for (var t = 0; t <= temporalLayer && t < MaxLayers; t++)
        {
            sum += _layers[t].BitsPerSecond(nowMicros);
        }

        return sum;
    }
}
