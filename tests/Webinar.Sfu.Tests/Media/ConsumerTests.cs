using Microsoft.Extensions.Time.Testing;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;
using static Webinar.Sfu.Tests.Media.MediaFixtures;

namespace Webinar.Sfu.Tests.Media;

public sealed class ConsumerTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingProducerTransport _publisher = new();
    private readonly RecordingConsumerTransport _subscriber = new();

    [Fact]
    public void Subscriber_receives_the_packet_on_its_own_ssrc_and_payload_type_with_the_payload_untouched()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock, ssrc: 0x1111);
        _ = Consumer(producer, _subscriber, _clock, ssrc: 0xABCDEF01, payloadType: 109);
        byte[] payload = [1, 2, 3, 4, 5, 6];

        Publish(producer, Rtp(0x1111, 7, 960, payload, payloadType: 111));

        var sent = Read(Assert.Single(_subscriber.Sent));
        Assert.Equal(0xABCDEF01u, sent.Ssrc);
        Assert.Equal((byte)109, sent.PayloadType);
        Assert.Equal(payload, sent.Payload);
    }

    [Fact]
    public void Sequence_numbers_and_timestamps_stay_continuous_when_the_publisher_restarts_with_another_ssrc()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock, ssrc: 0x1111);
        _ = Consumer(producer, _subscriber, _clock);
        for (ushort i = 0; i < 5; i++)
        {
            Publish(producer, Rtp(0x1111, (ushort)(65533 + i), 960u * i, [0xAA]));
            _clock.Advance(TimeSpan.FromMilliseconds(20));
        }

        producer.ChangeSsrc(0x2222);
        for (ushort i = 0; i < 5; i++)
        {
            Publish(producer, Rtp(0x2222, (ushort)(30000 + i), 123_456u + (960u * i), [0xBB]));
            _clock.Advance(TimeSpan.FromMilliseconds(20));
        }

        Assert.Equal(10, _subscriber.Sent.Count);
        var first = Read(_subscriber.Sent[0]);
        for (var i = 1; i < _subscriber.Sent.Count; i++)
        {
            var previous = Read(_subscriber.Sent[i - 1]);
            var packet = Read(_subscriber.Sent[i]);
            Assert.Equal(first.Ssrc, packet.Ssrc);
            Assert.Equal((ushort)(previous.Seq + 1), packet.Seq);
            Assert.True((int)(packet.Timestamp - previous.Timestamp) > 0, $"timestamp went back at packet {i}");
        }
    }

    [Fact]
    public void Video_waits_for_a_keyframe_before_its_first_packet_and_asks_the_publisher_for_one()
    {
        Assert.True(KeyframeDetector.IsVp8Keyframe(Vp8Keyframe));
        Assert.False(KeyframeDetector.IsVp8Keyframe(Vp8Delta));
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        _ = Consumer(producer, _subscriber, _clock, payloadType: 100);

        Publish(producer, Rtp(0x1111, 1, 0, Vp8Delta, payloadType: 96));
        Publish(producer, Rtp(0x1111, 2, 0, Vp8Delta, payloadType: 96));

        Assert.Empty(_subscriber.Sent);
        Assert.True(_publisher.KeyframeRequests > 0);

        Publish(producer, Rtp(0x1111, 3, 3000, Vp8Keyframe, payloadType: 96));
        Publish(producer, Rtp(0x1111, 4, 6000, Vp8Delta, payloadType: 96));

        Assert.Equal(2, _subscriber.Sent.Count);
        Assert.Equal(Vp8Keyframe, Read(_subscriber.Sent[0]).Payload);
        Assert.Equal((ushort)(Read(_subscriber.Sent[0]).Seq + 1), Read(_subscriber.Sent[1]).Seq);
    }

    [Fact]
    public void Audio_is_forwarded_from_the_first_packet_without_a_keyframe_request()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        _ = Consumer(producer, _subscriber, _clock);

        Publish(producer, Rtp(0x1111, 1, 0, [0x01]));

        Assert.Single(_subscriber.Sent);
        Assert.Equal(0, _publisher.KeyframeRequests);
    }

    [Fact]
    public void A_relay_consumer_forwards_video_at_once_and_leaves_keyframes_to_the_far_node()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        _ = Consumer(producer, _subscriber, _clock, waitForKeyframe: false);

        Publish(producer, Rtp(0x1111, 1, 0, Vp8Delta, payloadType: 96));

        Assert.Equal(Vp8Delta, Read(Assert.Single(_subscriber.Sent)).Payload);
        Assert.Equal(0, _publisher.KeyframeRequests);
    }

    [Fact]
    public void A_nack_is_answered_from_the_cache_with_exactly_the_bytes_sent_before()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        for (ushort i = 0; i < 3; i++)
        {
            Publish(producer, Rtp(0x1111, (ushort)(100 + i), 960u * i, [(byte)i, 0x42]));
        }

        var lost = _subscriber.Sent[1];
        var lostSeq = Read(lost).Seq;

        var resent = consumer.Retransmit([lostSeq, unchecked((ushort)(lostSeq + 500))]);

        Assert.Equal(1, resent.Sent);
        Assert.Equal(4, _subscriber.Sent.Count);
        Assert.Equal(lost, _subscriber.Sent[3]);
    }

    [Fact]
    public void A_subscriber_that_negotiated_rtx_gets_the_resend_on_the_rtx_stream_with_the_osn_before_the_original_payload()
    {
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = new Consumer(producer, _subscriber, "0", 0xC0C0, 96, new RtpExtensionIdMap(), _clock, rtx: new ConsumerRtx(0xC1C1, 97));
        producer.Attach(consumer);
        Publish(producer, Rtp(0x1111, 100, 3000, Vp8Keyframe, payloadType: 96));
        Publish(producer, Rtp(0x1111, 101, 6000, Vp8Delta, payloadType: 96));
        Publish(producer, Rtp(0x1111, 102, 9000, Vp8Delta, payloadType: 96));
        var first = Read(_subscriber.Sent[0]);
        var lost = Read(_subscriber.Sent[1]);
        var alsoLost = Read(_subscriber.Sent[2]);

        Assert.Equal(2, consumer.Retransmit([lost.Seq, alsoLost.Seq]).Sent);

        var rtx = Read(_subscriber.Sent[3]);
        var next = Read(_subscriber.Sent[4]);
        Assert.Equal((0xC1C1u, (byte)97, lost.Timestamp), (rtx.Ssrc, rtx.PayloadType, rtx.Timestamp));
        Assert.Equal([(byte)(lost.Seq >> 8), (byte)lost.Seq, .. Vp8Delta], rtx.Payload);
        Assert.Equal(unchecked((ushort)(rtx.Seq + 1)), next.Seq); // the RTX stream's own sequence, one up per packet
        Assert.Equal([(byte)(alsoLost.Seq >> 8), (byte)alsoLost.Seq, .. Vp8Delta], next.Payload);
        Assert.Equal(2, consumer.RtxPacketsSent);

        // The media stream itself goes on untouched, its numbering not moved by the retransmissions.
        Publish(producer, Rtp(0x1111, 103, 12000, Vp8Delta, payloadType: 96));
        var media = Read(_subscriber.Sent[5]);
        Assert.Equal((0xC0C0u, (byte)96, unchecked((ushort)(first.Seq + 3))), (media.Ssrc, media.PayloadType, media.Seq));
    }

    [Fact]
    public void Answering_nacks_on_the_rtx_stream_allocates_nothing()
    {
        var transport = new CountingConsumerTransport();
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = new Consumer(producer, transport, "0", 0xC0C0, 96, new RtpExtensionIdMap(), _clock, rtx: new ConsumerRtx(0xC1C1, 97));
        producer.Attach(consumer);
        Publish(producer, Rtp(0x1111, 100, 3000, Vp8Keyframe, payloadType: 96));
        for (ushort i = 1; i < 32; i++)
        {
            Publish(producer, Rtp(0x1111, (ushort)(100 + i), 3000u * i, Vp8Delta, payloadType: 96));
        }

        var nacked = new ushort[8];
        for (var i = 0; i < nacked.Length; i++)
        {
            nacked[i] = unchecked((ushort)(transport.FirstSequenceNumber + 4 + i));
        }

        consumer.Retransmit(nacked); // warm-up
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(200));
            consumer.Retransmit(nacked);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(101 * nacked.Length, consumer.RtxPacketsSent);
        Assert.Equal(0xC1C1u, transport.LastSsrc);
    }

    /// <summary>Sends nowhere and keeps no copies: what a packet costs the consumer alone.</summary>
    private sealed class CountingConsumerTransport : IConsumerTransport
    {
        private readonly byte[] _buffer = new byte[MediaLoop.MaxDatagram + 128];

        public bool IsConnected => true;

        public RetransmissionOptions Retransmission { get; } = new();

        public Span<byte> SendBuffer => _buffer;

        public int FirstSequenceNumber { get; private set; } = -1;

        public uint LastSsrc { get; private set; }

        public void SendRtp(Span<byte> buffer, int length)
        {
            if (FirstSequenceNumber < 0)
            {
                FirstSequenceNumber = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
            }

            LastSsrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]);
        }

        public void OnConsumerClosed(Consumer consumer)
        {
        }
    }

    [Fact]
    public void Nothing_is_sent_while_the_subscriber_transport_is_not_connected()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        _subscriber.IsConnected = false;

        Publish(producer, Rtp(0x1111, 1, 0, [0x01]));

        Assert.Empty(_subscriber.Sent);
        Assert.False(consumer.HasSent);

        _subscriber.IsConnected = true;
        Publish(producer, Rtp(0x1111, 2, 960, [0x02]));

        Assert.Equal(new byte[] { 0x02 }, Read(Assert.Single(_subscriber.Sent)).Payload);
    }

    [Fact]
    public void A_closed_consumer_sends_nothing_not_even_retransmissions()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        Publish(producer, Rtp(0x1111, 1, 0, [0x01]));
        var seq = Read(_subscriber.Sent[0]).Seq;

        consumer.Dispose();
        Publish(producer, Rtp(0x1111, 2, 960, [0x02]));

        Assert.Equal(0, consumer.Retransmit([seq]).Sent);
        Assert.Single(_subscriber.Sent);
    }

    [Fact]
    public void A_packet_nacked_again_and_again_is_resent_once_per_resend_interval()
    {
        var producer = Producer(MediaKind.Audio, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock);
        Publish(producer, Rtp(0x1111, 1, 0, [0x01]));
        var seq = Read(_subscriber.Sent[0]).Seq;
        ushort[] duplicates = [seq, seq, seq, seq, seq, seq, seq, seq];

        var first = consumer.Retransmit(duplicates);
        var again = consumer.Retransmit(duplicates);
        _clock.Advance(_subscriber.Retransmission.MinResendInterval);
        var later = consumer.Retransmit([seq]);

        Assert.Equal(new RetransmitResult(1, 7, 0), first);
        Assert.Equal(new RetransmitResult(0, 8, 0), again);
        Assert.Equal(1, later.Sent);
        Assert.Equal(3, _subscriber.Sent.Count);
    }

    [Fact]
    public void One_datagram_of_nacks_for_every_cached_packet_resends_no_more_than_the_byte_budget()
    {
        _subscriber.Retransmission = new RetransmissionOptions { BytesPerSecond = 100_000, BurstBytes = 20_000 };
        var producer = Producer(MediaKind.Video, _publisher, _clock);
        var consumer = Consumer(producer, _subscriber, _clock, waitForKeyframe: false);
        var payload = new byte[988]; // 1,000-byte packets
        for (ushort i = 0; i < 512; i++)
        {
            Publish(producer, Rtp(0x1111, (ushort)(1000 + i), 3000u * i, payload, payloadType: 96));
        }

        // What ~19 generic NACKs of 256 sequence numbers each ask for: every cached packet, several times over.
        var firstSeq = Read(_subscriber.Sent[0]).Seq;
        var asked = new ushort[19 * 256];
        for (var i = 0; i < asked.Length; i++)
        {
            asked[i] = unchecked((ushort)(firstSeq + (i % 512)));
        }

        _subscriber.Sent.Clear();
        var result = consumer.Retransmit(asked);

        Assert.Equal(20, result.Sent);
        Assert.Equal(20, _subscriber.Sent.Count);
        Assert.Equal(asked.Length, result.Sent + result.Repeated + result.OverBudget);

        // The budget refills at its rate: a tenth of a second later, 10 kB more.
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(10, consumer.Retransmit(asked).Sent);
    }
}
