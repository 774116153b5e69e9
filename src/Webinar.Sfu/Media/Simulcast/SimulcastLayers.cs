using Webinar.Media.Sdp;

namespace Webinar.Sfu.Media.Simulcast;

/// <summary>The layers a publisher's m= section sends, when the node's answer accepted its simulcast.</summary>
internal static class SimulcastLayers
{
    /// <summary>One <see cref="ProducerLayer"/> per RID the answer receives, lowest first; empty without simulcast.</summary>
    public static IReadOnlyList<ProducerLayer> FromAnswer(MediaDescription answered, MediaDescription offered, SourceCodec codec, TimeProvider time)
    {
        var accepted = false;
        foreach (var attribute in answered.OtherAttributes)
        {
            accepted |= attribute.Name == "simulcast";
        }

        if (!accepted || !SdpSimulcast.TryReadSendLayers(offered, out var rids))
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
