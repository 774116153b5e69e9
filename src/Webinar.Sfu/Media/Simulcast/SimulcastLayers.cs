using Webinar.Media.Sdp;

namespace Webinar.Sfu.Media.Simulcast;

/// <summary>The layers a publisher's m= section sends, when the node's answer accepted its simulcast.</summary>
internal static class SimulcastLayers
{
    /// <summary>The RIDs the offer sends, in order, when the answer accepted simulcast on this m-line; empty otherwise.</summary>
    public static IReadOnlyList<string> AcceptedRids(MediaDescription answered, MediaDescription offered)
    {
        var accepted = false;
        foreach (var attribute in answered.OtherAttributes)
        {
            accepted |= attribute.Name == "simulcast";
        }

        return accepted && SdpSimulcast.TryReadSendLayers(offered, out var rids) ? rids : [];
    }

    /// <summary>A producer's layers, one per RID (none: a single-stream producer).</summary>
    public static IReadOnlyList<ProducerLayer> FromRids(IReadOnlyList<string> rids, SourceCodec codec, TimeProvider time)
    {
        if (rids.Count == 0)
        {
            return [];
        }

        var layers = new ProducerLayer[rids.Count];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = new ProducerLayer(i, rids[i], (uint)codec.ClockRate, time);
        }

        return layers;
    }
}
