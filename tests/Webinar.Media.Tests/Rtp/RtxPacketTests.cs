using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

/// <summary>The retransmission payload format, byte for byte against RFC 4588 §4.</summary>
public sealed class RtxPacketTests
{
    // An original packet (RFC 3550 §5.1): V=2, P=1, X=1, CC=1, M=1, PT=96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344,
    // CSRC 0xAABBCCDD, a one-byte extension block with one element (id 3, 2 bytes: a transport-wide seq) padded to a
    // word, a 5-byte payload, then 3 bytes of RTP padding (last byte = 3).
    private static byte[] Original() =>
    [
        0xB1, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
        0xAA, 0xBB, 0xCC, 0xDD,
        0xBE, 0xDE, 0x00, 0x01, 0x31, 0x00, 0x07, 0x00,
        0x01, 0x02, 0x03, 0x04, 0x05,
        0x00, 0x00, 0x03,
    ];

    // The retransmission RFC 4588 §4 asks for, on RTX SSRC 0x55667788 with PT 97 and RTX seq 0x0042: the same
    // timestamp, marker, CSRC list and header extension (§4: "SHOULD include the same extensions"), P cleared because
    // the original's padding is removed, then the OSN 0x1234 and the original payload.
    private static byte[] Expected() =>
    [
        0x91, 0xE1, 0x00, 0x42, 0xDE, 0xAD, 0xBE, 0xEF, 0x55, 0x66, 0x77, 0x88,
        0xAA, 0xBB, 0xCC, 0xDD,
        0xBE, 0xDE, 0x00, 0x01, 0x31, 0x00, 0x07, 0x00,
        0x12, 0x34,
        0x01, 0x02, 0x03, 0x04, 0x05,
    ];

    [Fact]
    public void A_retransmission_carries_the_osn_then_the_original_payload_on_its_own_ssrc_sequence_and_payload_type()
    {
        var destination = new byte[64];
        Assert.True(RtxPacket.TryWrap(Original(), destination, payloadType: 97, sequenceNumber: 0x0042, ssrc: 0x55667788, out var length));
        Assert.Equal(Expected(), destination[..length]);
    }

    [Fact]
    public void Unwrapping_restores_the_original_sequence_number_payload_type_and_ssrc_in_place()
    {
        var packet = Expected();
        Assert.Equal(RtxUnwrapResult.Repaired, RtxPacket.TryUnwrap(packet, originalPayloadType: 96, originalSsrc: 0x11223344, out var offset, out var length));

        var original = Original();
        original[0] &= 0xDF; // without the padding the retransmission never carried
        var unpadded = original[..^3];
        Assert.Equal(unpadded, packet.AsSpan(offset, length).ToArray());
        Assert.True(RtpPacket.TryParse(packet.AsSpan(offset, length), out var view));
        Assert.Equal(0x1234, view.SequenceNumber);
        Assert.Equal(96, view.PayloadType);
        Assert.True(view.Marker);
        Assert.Equal(0x11223344u, view.Ssrc);
        Assert.Equal(0xDEADBEEFu, view.Timestamp);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, view.Payload.ToArray());
    }

    [Fact]
    public void Wrap_then_unwrap_is_the_original_for_packets_without_padding_csrcs_or_extensions()
    {
        byte[] plain = [0x80, 0x60, 0xFF, 0xFF, 0, 0, 0x0B, 0xB8, 0xCA, 0xFE, 0xBA, 0xBE, 9, 8, 7];
        var rtx = new byte[64];
        Assert.True(RtxPacket.TryWrap(plain, rtx, 97, 0, 0x01020304, out var length));
        Assert.Equal(plain.Length + RtxPacket.HeaderLength, length);
        Assert.Equal(new byte[] { 0xFF, 0xFF }, rtx[12..14]);

        var packet = rtx[..length];
        Assert.Equal(RtxUnwrapResult.Repaired, RtxPacket.TryUnwrap(packet, 96, 0xCAFEBABE, out var offset, out var restored));
        Assert.Equal(plain, packet.AsSpan(offset, restored).ToArray());
    }

    [Fact]
    public void A_payload_shorter_than_the_osn_is_malformed_and_a_padding_only_packet_is_padding()
    {
        byte[] empty = [0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        byte[] oneByte = [0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x12];
        byte[] padding = [0xA0, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4];
        byte[] notRtp = [0x40, 0x61, 0, 1];

        Assert.Equal(RtxUnwrapResult.Malformed, RtxPacket.TryUnwrap(empty, 96, 1, out _, out _));
        Assert.Equal(RtxUnwrapResult.Malformed, RtxPacket.TryUnwrap(oneByte, 96, 1, out _, out _));
        Assert.Equal(RtxUnwrapResult.Padding, RtxPacket.TryUnwrap(padding, 96, 1, out _, out _));
        Assert.Equal(RtxUnwrapResult.Malformed, RtxPacket.TryUnwrap(notRtp, 96, 1, out _, out _));
    }

    [Fact]
    public void Wrapping_refuses_what_is_not_rtp_or_does_not_fit()
    {
        var original = Original();
        Assert.False(RtxPacket.TryWrap(original, new byte[original.Length - 2], 97, 1, 1, out _));
        Assert.False(RtxPacket.TryWrap(original.AsSpan(0, 10), new byte[64], 97, 1, 1, out _));
        var badVersion = Original();
        badVersion[0] = 0x40;
        Assert.False(RtxPacket.TryWrap(badVersion, new byte[64], 97, 1, 1, out _));
    }

    [Fact]
    public void Random_bytes_never_make_unwrap_or_wrap_throw()
    {
        var random = new Random(4588);
        var destination = new byte[1600];
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (bytes.Length > 0)
            {
                bytes[0] = (byte)((bytes[0] & 0x3F) | 0x80);
            }

            RtxPacket.TryWrap(bytes, destination, 97, 1, 1, out var wrapped);
            Assert.InRange(wrapped, 0, destination.Length);
            var result = RtxPacket.TryUnwrap(bytes, 96, 1, out var offset, out var length);
            if (result == RtxUnwrapResult.Repaired)
            {
                Assert.True(offset + length <= bytes.Length);
            }
        }
    }
}
