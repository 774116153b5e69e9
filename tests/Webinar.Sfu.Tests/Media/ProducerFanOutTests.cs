using Microsoft.Extensions.Time.Testing;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media;

public sealed class ProducerFanOutTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingProducerTransport _publisher = new();

    private (Producer Producer, RecordingConsumerTransport[] Subscribers, Consumer[] Consumers) Stream(int subscribers)
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        var transports = new RecordingConsumerTransport[subscribers];
        var consumers = new Consumer[subscribers];
        for (var i = 0; i < subscribers; i++)
        {
            transports[i] = new RecordingConsumerTransport();
            consumers[i] = Consumer(producer, transports[i], _clock, ssrc: (uint)(0xC000 + i));
        }

        return (producer, transports, consumers);
    }

    private static void PublishAudio(Producer producer, ushort seq) => Publish(producer, Rtp(0x1111, seq, 960u * seq, [(byte)seq]));

    [Fact]
    public void Every_subscriber_receives_every_packet_on_its_own_ssrc()
    {
        var (producer, subscribers, _) = Stream(5);

        for (ushort seq = 1; seq <= 4; seq++)
        {
            PublishAudio(producer, seq);
        }

        for (var i = 0; i < subscribers.Length; i++)
        {
            Assert.Equal(4, subscribers[i].Sent.Count);
            Assert.All(subscribers[i].Sent, packet => Assert.Equal((uint)(0xC000 + i), Read(packet).Ssrc));
            Assert.Equal(new byte[] { 4 }, Read(subscribers[i].Sent[^1]).Payload);
        }
    }

    [Fact]
    public void A_subscriber_that_leaves_mid_stream_stops_receiving_and_the_others_carry_on()
    {
        var (producer, subscribers, consumers) = Stream(3);
        PublishAudio(producer, 1);
        PublishAudio(producer, 2);

        consumers[1].Dispose();
        PublishAudio(producer, 3);
        PublishAudio(producer, 4);

        Assert.Equal(4, subscribers[0].Sent.Count);
        Assert.Equal(2, subscribers[1].Sent.Count);
        Assert.Equal(4, subscribers[2].Sent.Count);
        Assert.Equal(2, producer.Consumers.Length);
    }

    [Fact]
    public void One_failing_subscriber_never_stops_the_fan_out_to_the_others()
    {
        var (producer, subscribers, _) = Stream(3);
        subscribers[0].Fails = true;

        var thrown = Record.Exception(() =>
        {
            PublishAudio(producer, 1);
            PublishAudio(producer, 2);
        });

        Assert.Null(thrown);
        Assert.Empty(subscribers[0].Sent);
        Assert.Equal(2, subscribers[1].Sent.Count);
        Assert.Equal(2, subscribers[2].Sent.Count);
        Assert.Equal(2, producer.ForwardFailures);
    }

    [Fact]
    public void Removing_a_producer_from_its_router_closes_every_consumer_and_tells_their_transports()
    {
        var router = new Router(Guid.NewGuid(), primary: null);
        var (producer, subscribers, consumers) = Stream(2);
        router.AddProducer(producer);
        PublishAudio(producer, 1);

        router.RemoveProducer(producer);
        PublishAudio(producer, 2);

        Assert.True(producer.IsClosed);
        Assert.Empty(router.OwnProducers);
        for (var i = 0; i < consumers.Length; i++)
        {
            Assert.True(consumers[i].IsClosed);
            Assert.Same(consumers[i], Assert.Single(subscribers[i].Closed));
            Assert.Single(subscribers[i].Sent);
        }
    }

    [Fact]
    public void A_replica_router_shows_its_primarys_streams_and_its_attendees_hear_of_them_come_and_go()
    {
        var primary = new Router(Guid.NewGuid(), primary: null);
        var replica = new Router(Guid.NewGuid(), primary);
        var primaryWatcher = new RecordingRouterObserver();
        var replicaWatcher = new RecordingRouterObserver();
        primary.AddObserver(primaryWatcher);
        replica.AddObserver(replicaWatcher);
        var camera = Producer(MediaKind.Video, _publisher, _clock, ssrc: 0x2222, streamId: "camera");

        primary.AddProducer(camera);

        Assert.Same(camera, Assert.Single(replica.VisibleProducers));
        Assert.Empty(replica.OwnProducers);
        Assert.Equal(["camera"], replicaWatcher.Added);
        Assert.Equal(["camera"], primaryWatcher.Added);

        primary.RemoveProducer(camera);

        Assert.Empty(replica.VisibleProducers);
        Assert.Equal(["camera"], replicaWatcher.Removed);
    }

    [Fact]
    public void A_closed_replica_no_longer_hears_of_its_primarys_streams()
    {
        var primary = new Router(Guid.NewGuid(), primary: null);
        var replica = new Router(Guid.NewGuid(), primary);
        var replicaWatcher = new RecordingRouterObserver();
        replica.AddObserver(replicaWatcher);

        replica.Close();
        primary.AddProducer(Producer(MediaKind.Audio, _publisher, _clock));

        Assert.Empty(replicaWatcher.Added);
        Assert.Empty(primary.Replicas);
    }
}
