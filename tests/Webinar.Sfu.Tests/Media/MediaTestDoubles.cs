using System.Buffers.Binary;
using Webinar.Media.Rtp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Tests.Media;

/// <summary>A subscriber's transport that keeps a copy of every packet it is asked to send.</summary>
internal sealed class RecordingConsumerTransport : IConsumerTransport
{
    private readonly byte[] _buffer = new byte[MediaLoop.MaxDatagram + 128];

    public bool IsConnected { get; set; } = true;

    public RetransmissionOptions Retransmission { get; set; } = new();

    /// <summary>When set, <see cref="SendRtp"/> throws, as a broken subscriber would.</summary>
    public bool Fails { get; set; }

    public Span<byte> SendBuffer => _buffer;

    public List<byte[]> Sent { get; } = [];

    public List<Consumer> Closed { get; } = [];

    public void SendRtp(Span<byte> buffer, int length)
    {
        if (Fails)
        {
            throw new InvalidOperationException("subscriber transport failed");
        }

        Sent.Add(buffer[..length].ToArray());
    }

    public void OnConsumerClosed(Consumer consumer) => Closed.Add(consumer);
}

/// <summary>A publisher's transport that counts the keyframe requests it is asked to send.</summary>
internal sealed class RecordingProducerTransport : IProducerTransport
{
    public int KeyframeRequests { get; private set; }

    public void RequestKeyframe(Producer producer, uint ssrc)
    {
        KeyframeRequests++;
        RequestedSsrcs.Add(ssrc);
    }

    public List<uint> RequestedSsrcs { get; } = [];
}

/// <summary>Hears the streams a router announces, as signalling does.</summary>
internal sealed class RecordingRouterObserver : IRouterObserver
{
    public List<string> Added { get; } = [];

    public List<string> Removed { get; } = [];

    public void OnStreamAdded(Producer producer) => Added.Add(producer.StreamId);

    public void OnStreamRemoved(Producer producer) => Removed.Add(producer.StreamId);
}

/// <summary>Producers, consumers and RTP packets for the media tests.</summary>
internal static class MediaFixtures
{
    public static readonly SourceCodec Opus = new("opus", 111, 48000, 2, "minptime=10;useinbandfec=1");
    public static readonly SourceCodec Vp8 = new("VP8", 96, 90000, null, null);

    /// <summary>VP8 descriptor with S=1, PID 0, then a payload header whose P bit is 0: a keyframe.</summary>
    public static readonly byte[] Vp8Keyframe = [0x10, 0x50, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01, 0x11, 0x22];

    /// <summary>Same descriptor, P bit 1: an interframe.</summary>
    public static readonly byte[] Vp8Delta = [0x10, 0x51, 0x02, 0x00, 0x33, 0x44, 0x55];

    public static Producer Producer(MediaKind kind, IProducerTransport transport, TimeProvider time, uint ssrc = 0x1111, string streamId = "stream-1") =>
        new(streamId, kind, ssrc, kind == MediaKind.Video ? Vp8 : Opus,
            new ProducerOwner(Guid.NewGuid(), Guid.NewGuid(), "presenter"), transport, time);

    public static Consumer Consumer(Producer producer, IConsumerTransport transport, TimeProvider time, uint ssrc = 0xC0C0, byte payloadType = 109, bool waitForKeyframe = true)
    {
        var consumer = new Consumer(producer, transport, "0", ssrc, payloadType, new RtpExtensionIdMap(), time, waitForKeyframe);
        producer.Attach(consumer);
        return consumer;
    }

    public static byte[] Rtp(uint ssrc, ushort sequenceNumber, uint timestamp, ReadOnlySpan<byte> payload, byte payloadType = 111)
    {
        var packet = new byte[RtpPacket.FixedHeaderLength + payload.Length];
        packet[0] = 0x80;
        packet[1] = payloadType;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        payload.CopyTo(packet.AsSpan(RtpPacket.FixedHeaderLength));
        return packet;
    }

    /// <summary>Hands one packet to the producer the way its transport does after SRTP.</summary>
    public static void Publish(Producer producer, byte[] packet)
    {
        var copy = (byte[])packet.Clone();
        Assert.True(RtpPacket.TryParse(copy, out var view));
        producer.OnRtp(copy, view, 0);
    }

    public static (uint Ssrc, ushort Seq, uint Timestamp, byte PayloadType, byte[] Payload) Read(byte[] packet)
    {
        Assert.True(RtpPacket.TryParse(packet, out var view));
        return (view.Ssrc, view.SequenceNumber, view.Timestamp, view.PayloadType, view.Payload.ToArray());
    }
}
