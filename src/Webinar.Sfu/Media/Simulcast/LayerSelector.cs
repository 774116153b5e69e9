namespace Webinar.Sfu.Media.Simulcast;

/// <summary>What a consumer does with one packet of a simulcast producer.</summary>
internal enum LayerDecision : byte
{
    /// <summary>Not the layer this subscriber receives (or video is paused for it).</summary>
    Drop,

    /// <summary>The layer being sent.</summary>
    Forward,

    /// <summary>The first packet of a keyframe of the target layer: from here on that layer is sent.</summary>
    Switch,
}

/// <summary>
/// Which spatial layer of a simulcast producer one consumer sends (the decision half of mediasoup's
/// SimulcastConsumer). The allocator sets <see cref="TargetLayer"/>; the consumer keeps sending
/// <see cref="CurrentLayer"/> until the first packet of a keyframe arrives on the target, because a decoder can only
/// change resolution at a keyframe. <see cref="NoLayer"/> as the target pauses video. Loop thread only.
/// </summary>
internal sealed class LayerSelector
{
    public const int NoLayer = -1;

    public int CurrentLayer { get; private set; } = NoLayer;

    private int _target = NoLayer;

    /// <summary>The layer to send; setting it hands the choice to the caller (the allocator), ending <see cref="FollowsHighest"/>.</summary>
    public int TargetLayer
    {
        get => _target;
        set
        {
            _target = value;
            FollowsHighest = false;
        }
    }

    /// <summary>
    /// No allocator chooses for this consumer (a subscriber without transport-wide feedback, the archive recorder):
    /// it follows the highest layer the publisher sends (<see cref="Follow"/>).
    /// </summary>
    public bool FollowsHighest { get; private set; } = true;

    /// <summary>While following: aim at <paramref name="layer"/> (a higher one that arrives, or a lower one when the current went silent).</summary>
    public void Follow(int layer)
    {
        if (FollowsHighest && !IsPinned)
        {
            _target = layer;
        }
    }

    /// <summary>Switches done (a benchmark and the logs read it).</summary>
    public int Switches { get; private set; }

    /// <summary>The target differs from what is sent: the consumer should ask for a keyframe on the target.</summary>
    public bool WantsKeyframe => TargetLayer != NoLayer && TargetLayer != CurrentLayer;

    public LayerDecision Decide(int layer, bool keyframe)
    {
        if (IsPinned)
        {
            return layer == CurrentLayer ? LayerDecision.Forward : LayerDecision.Drop;
        }

        if (TargetLayer == NoLayer)
        {
            CurrentLayer = NoLayer;
            return LayerDecision.Drop;
        }

        if (layer == TargetLayer && layer != CurrentLayer && keyframe)
        {
            CurrentLayer = layer;
            Switches++;
            return LayerDecision.Switch;
        }

        return layer == CurrentLayer ? LayerDecision.Forward : LayerDecision.Drop;
    }

    /// <summary>
    /// Always this layer, from any packet (a relay link's consumer carries each layer as it comes; the far node's
    /// consumers wait for keyframes themselves).
    /// </summary>
    public bool IsPinned { get; private set; }

    public void Pin(int layer)
    {
        IsPinned = true;
        CurrentLayer = layer;
        _target = layer;
        FollowsHighest = false;
    }

    /// <summary>The subscriber's decoder must start over (transport connected): wait for a keyframe on the target.</summary>
    public void Restart()
    {
        if (!IsPinned)
        {
            CurrentLayer = NoLayer;
        }
    }
}
