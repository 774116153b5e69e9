using Webinar.Contracts.Relay;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;
using Webinar.Sfu.Media;
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
        producer.Kind == MediaKind.Audio ? "audio" : "video",
        relaySsrc,
        producer.Codec.Name,
        producer.Codec.PayloadType,
        producer.Codec.ClockRate,
        producer.Codec.Channels,
        producer.Codec.Fmtp,
        new Dictionary<string, byte>(RelayedExtensions(producer), StringComparer.Ordinal));

    /// <summary>The producer a relayed stream becomes on this node; false for a description no producer can be made of.</summary>
    public static bool TryCreateProducer(Guid meetingId, RelayedStream stream, RelayLink link, TimeProvider time, out Producer producer)
    {
        producer = null!;
        if (stream.Kind is not ("audio" or "video") || stream.ClockRate <= 0 || stream.PayloadType is < 0 or > 127)
        {
            return false;
        }

        var codec = new SourceCodec(stream.Codec, stream.PayloadType, stream.ClockRate, stream.Channels, stream.Fmtp);
        producer = new Producer(stream.StreamId, stream.Kind == "audio" ? MediaKind.Audio : MediaKind.Video, stream.RelaySsrc, codec,
            new ProducerOwner(meetingId, stream.AttendeeId, stream.ExternalUserId), link, time)
        {
            ExtensionIds = stream.ExtensionIds,
        };
        return true;
    }

    /// <summary>The consumer that carries <paramref name="producer"/> over <paramref name="link"/>; one per stream and link.</summary>
    public static Consumer EnsureConsumer(RelayLink link, Producer producer, TimeProvider time)
    {
        foreach (var existing in producer.Consumers)
        {
            if (existing.Transport == link)
            {
                return existing;
            }
        }

        var extensions = new RtpExtensionIdMap();
        foreach (var (_, id) in RelayedExtensions(producer))
        {
            extensions.Set(id, id);
        }

        var consumer = new Consumer(producer, link, "relay", NewSsrc(), (byte)producer.Codec.PayloadType, extensions, time, waitForKeyframe: false);
        link.AddConsumer(consumer);
        return consumer;
    }

    /// <summary>Extensions that keep their meaning across the link.</summary>
    public static IEnumerable<KeyValuePair<string, byte>> RelayedExtensions(Producer producer)
    {
        foreach (var pair in producer.ExtensionIds)
        {
            if (pair.Key is not SdpAnswerBuilder.MidExtension)
            {
                yield return pair;
            }
        }
    }

    private static uint NewSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);
}
