using Webinar.Contracts.Relay;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Media.Simulcast;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Relay;

/// <summary>
/// How a stream crosses a relay link, both ways: a producer described on the wire (<see cref="RelayedStream"/>), a wire
/// description turned back into a producer on the far node, and the one consumer per stream and link that carries it.
/// Only header extensions that keep their meaning across the link travel (not the mid); the transport-wide sequence
/// number element travels as room for the far node to renumber per subscriber.
/// </summary>
internal static class RelayStreamMapping
{
    public static RelayedStream ToRelayed(Producer producer, uint relaySsrc) => new(
        producer.StreamId,
        producer.Owner.AttendeeId,
        producer.Owner.ExternalUserId,
        MediaKindNames.Of(producer.Kind),
        relaySsrc,
        producer.Codec.Name,
        producer.Codec.PayloadType,
        producer.Codec.ClockRate,
        producer.Codec.Channels,
        producer.Codec.Fmtp,
        new Dictionary<string, byte>(RelayedExtensions(producer), StringComparer.Ordinal));

    /// <summary>The stream as <paramref name="consumer"/> (from <see cref="EnsureConsumer"/>) carries it, with every layer's SSRC.</summary>
    public static RelayedStream ToRelayed(Producer producer, Consumer consumer)
    {
        var stream = ToRelayed(producer, consumer.Ssrc);
        if (!producer.IsSimulcast)
        {
            return stream;
        }

        var layers = new RelayedLayer[producer.Layers.Count];
        foreach (var existing in producer.Consumers)
        {
            if (existing.Transport == consumer.Transport && existing.Layers is { IsPinned: true } pinned)
            {
                layers[pinned.CurrentLayer] = new RelayedLayer(producer.Layers[pinned.CurrentLayer].Rid, existing.Ssrc);
            }
        }

        return Array.IndexOf(layers, null) >= 0 ? stream : stream with { Layers = layers };
    }

    /// <summary>The producer a relayed stream becomes on this node; false for a description no producer can be made of.</summary>
    public static bool TryCreateProducer(Guid meetingId, RelayedStream stream, RelayLink link, TimeProvider time, out Producer producer)
    {
        producer = null!;
        if (stream.Kind is not ("audio" or "video") || stream.ClockRate <= 0 || stream.PayloadType is < 0 or > 127)
        {
            return false;
        }

        var codec = new SourceCodec(stream.Codec, stream.PayloadType, stream.ClockRate, stream.Channels, stream.Fmtp);
        if (!TryLayers(stream, codec, time, out var layers))
        {
            return false;
        }

        producer = new Producer(stream.StreamId, MediaKindNames.Parse(stream.Kind), stream.RelaySsrc, codec,
            new ProducerOwner(meetingId, stream.AttendeeId, stream.ExternalUserId), link, time)
        {
            ExtensionIds = stream.ExtensionIds,
            Layers = layers,
        };
        return true;
    }

    /// <summary>
    /// The consumer that carries <paramref name="producer"/> over <paramref name="link"/>: one per stream and link, or
    /// for a simulcast producer one per layer (each pinned to its layer, on its own SSRC); the lowest layer's is returned.
    /// </summary>
    public static Consumer EnsureConsumer(RelayLink link, Producer producer, TimeProvider time)
    {
        var layerCount = Math.Max(1, producer.Layers.Count);
        var found = new Consumer?[layerCount];
        foreach (var existing in producer.Consumers)
        {
            if (existing.Transport == link)
            {
                found[existing.Layers is { IsPinned: true } pinned ? pinned.CurrentLayer : 0] ??= existing;
            }
        }

        for (var layer = 0; layer < layerCount; layer++)
        {
            if (found[layer] is not null)
            {
                continue;
            }

            var extensions = new RtpExtensionIdMap();
            foreach (var (_, id) in RelayedExtensions(producer))
            {
                extensions.Set(id, id);
            }

            var consumer = new Consumer(producer, link, "relay", RtpSsrc.NewRandom(), (byte)producer.Codec.PayloadType, extensions, time,
                waitForKeyframe: false, pinnedLayer: producer.IsSimulcast ? layer : null);
            link.AddConsumer(consumer);
            found[layer] = consumer;
        }

        return found[0]!;
    }

    /// <summary>The layers of a relayed simulcast stream: at most 4, valid RIDs, distinct non-zero SSRCs; empty for one stream.</summary>
    private static bool TryLayers(RelayedStream stream, SourceCodec codec, TimeProvider time, out IReadOnlyList<ProducerLayer> layers)
    {
        layers = [];
        if (stream.Layers is not { Count: > 0 } relayed)
        {
            return true;
        }

        if (stream.Kind != "video" || relayed.Count is < 2 or > SdpSimulcast.MaxLayers || relayed[0].RelaySsrc != stream.RelaySsrc)
        {
            return false;
        }

        var result = new ProducerLayer[relayed.Count];
        var ssrcs = new HashSet<uint>();
        for (var i = 0; i < relayed.Count; i++)
        {
            if (relayed[i] is not { } layer || layer.RelaySsrc == 0 || !ssrcs.Add(layer.RelaySsrc) || !SdpSimulcast.IsValidRid(layer.Rid))
            {
                return false;
            }

            result[i] = new ProducerLayer(i, layer.Rid, (uint)codec.ClockRate, time);
            result[i].Bind(layer.RelaySsrc);
        }

        layers = result;
        return true;
    }

    /// <summary>The extensions that travel across the link (<see cref="Producer.IsForwardedExtension"/>).</summary>
    public static IEnumerable<KeyValuePair<string, byte>> RelayedExtensions(Producer producer)
    {
        foreach (var pair in producer.ExtensionIds)
        {
            if (Producer.IsForwardedExtension(pair.Key))
            {
                yield return pair;
            }
        }
    }
}
