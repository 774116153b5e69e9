using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media.Bandwidth;

/// <summary>Hears when a subscriber's video stops or starts again for lack of bandwidth.</summary>
internal interface IAllocationListener
{
    void OnVideoPaused(Consumer consumer)
    {
    }

    void OnVideoResumed(Consumer consumer)
    {
    }
}

/// <summary>
/// Shares one subscriber's estimated downlink among its consumers (the idea of LiveKit's StreamAllocator and
/// mediasoup's consumer priorities): audio is budgeted first, then video in priority order (screen share, active
/// speaker), each simulcast consumer getting the highest active layer, at most its preferred one, whose measured
/// bitrate (with headroom, except for the layer already sent) fits what is left. A video whose lowest layer does not fit
/// gets that layer at a lower frame rate (fewer VP8 temporal layers) when that fits; one that cannot get even its base
/// temporal layer is paused (audio continues) and resumed when it fits again. While the estimate is below what the
/// preferred layers need, it asks for a probe. <b>A video is paused only on evidence</b>: the subscriber's feedback
/// must have shown heavy loss (the initial guess, or delay from a starved CPU, would stall a viewer who joins a stream
/// above it), the consumer must have sent (so a probe has a carrier to resume it), and nothing of it may have fitted
/// for <see cref="BandwidthOptions.PauseAfter"/> without a break; short of that, a video gets its lowest active layer.
/// Loop thread only.
/// </summary>
internal sealed class SubscriberAllocator
{
    private readonly BandwidthOptions _options;
    private readonly IAllocationListener _listener;
    private readonly List<Consumer> _video = [];
    private readonly Dictionary<Consumer, long> _unfitSince = [];

    public SubscriberAllocator(BandwidthOptions options, IAllocationListener listener)
    {
        _options = options;
        _listener = listener;
    }

    /// <summary>Bits/s the preferred layers would need, from the last allocation (what a probe aims at).</summary>
    public long Desired { get; private set; }

    /// <summary>Bits/s the chosen layers need.</summary>
    public long Allocated { get; private set; }

    /// <param name="lossSeen">The subscriber's feedback has shown heavy loss (the evidence a pause needs).</param>
    public void Allocate(IEnumerable<Consumer> consumers, long estimate, long nowMicros, bool lossSeen = true)
    {
        _video.Clear();
        long audio = 0;
        foreach (var consumer in consumers)
        {
            if (consumer.IsClosed)
            {
                _unfitSince.Remove(consumer);
                continue;
            }

            if (consumer.Producer.Kind == MediaKind.Audio)
            {
                audio += _options.AudioBitrate;
            }
            else
            {
                _video.Add(consumer);
            }
        }

        _video.Sort(static (a, b) => b.Priority.CompareTo(a.Priority));
        var available = estimate - audio;
        long desired = audio, allocated = audio;
        foreach (var consumer in _video)
        {
            var (layer, need, wanted) = Choose(consumer, available, nowMicros);
            desired += wanted;
            var temporal = int.MaxValue;
            if (layer == LayerSelector.NoLayer)
            {
                (layer, temporal, need) = LowerFrameRate(consumer, available, nowMicros);
            }

            if (layer == LayerSelector.NoLayer && !consumer.IsVideoPaused && !MayPause(consumer, wanted, lossSeen, nowMicros))
            {
                (layer, need) = Lowest(consumer, nowMicros);
            }
            else if (layer != LayerSelector.NoLayer)
            {
                _unfitSince.Remove(consumer);
            }

            if (layer == LayerSelector.NoLayer)
            {
                if (!consumer.IsVideoPaused && wanted > 0)
                {
                    consumer.SetVideoPaused(true);
                    _listener.OnVideoPaused(consumer);
                }

                continue;
            }

            consumer.AllocatedTemporalLayer = temporal;
            available -= need;
            allocated += need;
            if (consumer.IsVideoPaused)
            {
                consumer.SetVideoPaused(false, layer);
                _listener.OnVideoResumed(consumer);
            }
            else if (consumer.Layers is { } selector)
            {
                selector.TargetLayer = layer; // from now on the allocator decides, not FollowsHighest
            }
        }

        Desired = desired;
        Allocated = allocated;
    }

    /// <summary>Evidence enough to pause: heavy loss seen, the consumer has sent, and nothing has fitted for PauseAfter.</summary>
    private bool MayPause(Consumer consumer, long wanted, bool lossSeen, long nowMicros)
    {
        if (wanted <= 0 || !lossSeen || !consumer.HasSent)
        {
            _unfitSince.Remove(consumer);
            return false;
        }

        if (!_unfitSince.TryGetValue(consumer, out var since))
        {
            _unfitSince[consumer] = nowMicros;
            since = nowMicros;
        }

        return nowMicros - since >= (long)_options.PauseAfter.TotalMicroseconds;
    }

    /// <summary>The lowest layer that arrives (the one stream of a single-stream producer) and its bitrate: what a video gets without evidence to pause it.</summary>
    private (int Layer, long Need) Lowest(Consumer consumer, long nowMicros)
    {
        var producer = consumer.Producer;
        if (!producer.IsSimulcast)
        {
            return (0, producer.Bitrate.BitsPerSecond(nowMicros));
        }

        var inactiveAfter = (long)_options.LayerInactiveAfter.TotalMicroseconds;
        for (var i = 0; i < producer.Layers.Count; i++)
        {
            if (producer.Layers[i].IsActive(nowMicros, inactiveAfter))
            {
                return (i, producer.Layers[i].Bitrate.BitsPerSecond(nowMicros));
            }
        }

        return (LayerSelector.NoLayer, 0);
    }

    /// <summary>
    /// When no layer fits at its full frame rate: the lowest active layer with fewer VP8 temporal layers (a quarter or half
    /// the frame rate) if that fits, before the video is paused; NoLayer when the stream has no temporal layers or even
    /// its base layer does not fit.
    /// </summary>
    private (int Layer, int Temporal, long Need) LowerFrameRate(Consumer consumer, long available, long nowMicros)
    {
        var (layer, _) = Lowest(consumer, nowMicros);
        if (layer == LayerSelector.NoLayer)
        {
            return (LayerSelector.NoLayer, int.MaxValue, 0);
        }

        var producer = consumer.Producer;
        var temporal = producer.IsSimulcast ? producer.Layers[layer].Temporal : producer.Temporal;
        var top = Math.Min(temporal.HighestActive(nowMicros) - 1, consumer.PreferredTemporalLayer);
        for (var t = top; t >= 0; t--)
        {
            var bitrate = Math.Max(temporal.UpTo(t, nowMicros), 1);
            var sentNow = consumer.AllocatedTemporalLayer == t && !consumer.IsVideoPaused && (!producer.IsSimulcast || consumer.Layers!.CurrentLayer == layer);
            if ((long)(bitrate * (sentNow ? 1 : _options.LayerHeadroom)) <= available)
            {
                return (layer, t, bitrate);
            }
        }

        return (LayerSelector.NoLayer, int.MaxValue, 0);
    }

    /// <summary>The layer to send (NoLayer: none fits), what it needs, and what the preferred layer would need.</summary>
    private (int Layer, long Need, long Wanted) Choose(Consumer consumer, long available, long nowMicros)
    {
        var producer = consumer.Producer;
        if (!producer.IsSimulcast)
        {
            var bitrate = producer.Bitrate.BitsPerSecond(nowMicros);
            if (bitrate == 0)
            {
                return (0, 0, 0); // nothing arrives: nothing to share
            }

            var need = (long)(bitrate * (consumer.IsVideoPaused ? _options.LayerHeadroom : 1));
            return need <= available ? (0, bitrate, bitrate) : (LayerSelector.NoLayer, 0, bitrate);
        }

        var inactiveAfter = (long)_options.LayerInactiveAfter.TotalMicroseconds;
        var top = Math.Min(consumer.PreferredSpatialLayer, producer.Layers.Count - 1);
        var current = consumer.Layers!.CurrentLayer;
        long wanted = -1;
        for (var i = top; i >= 0; i--)
        {
            var layer = producer.Layers[i];
            if (!layer.IsActive(nowMicros, inactiveAfter))
            {
                continue;
            }

            var bitrate = Math.Max(layer.Bitrate.BitsPerSecond(nowMicros), 1);
            if (wanted < 0)
            {
                wanted = (long)(bitrate * _options.LayerHeadroom);
            }

            var need = (long)(bitrate * (i == current && !consumer.IsVideoPaused ? 1 : _options.LayerHeadroom));
            if (need <= available)
            {
                return (i, bitrate, wanted);
            }
        }

        return (LayerSelector.NoLayer, 0, Math.Max(wanted, 0));
    }
}
