using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class RtpPacketTests
{
    // RFC 3550 §5.1 layout: V=2, P=0, X=1, CC=1, M=1, PT=96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344, CSRC 0xAABBCCDD,
    // then an RFC 8285 §4.2 one-byte block: id 1 (1 byte), padding, id 2 (2 bytes), id 3 (4 bytes) = 3 words.
    private static byte[] OneBytePacket() =>
    [
        0x91, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
        0xAA, 0xBB, 0xCC, 0xDD,
        0xBE, 0xDE, 0x00, 0x03,
        0x10, 0x7F, 0x00, 0x21, 0x01, 0x02, 0x33, 0x0A, 0x0B, 0x0C, 0x0D, 0x00,
        0x01, 0x02, 0x03,
    ];

    [Fact]
    public void Parses_fixed_header_csrc_one_byte_extensions_and_payload()
    {
        var bytes = OneBytePacket();
        Assert.True(RtpPacket.TryParse(bytes, out var packet));
        Assert.True(packet.Marker);
        Assert.Equal(96, packet.PayloadType);
        Assert.Equal(0x1234, packet.SequenceNumber);
        Assert.Equal(0xDEADBEEFu, packet.Timestamp);
        Assert.Equal(0x11223344u, packet.Ssrc);
        Assert.Equal(1, packet.CsrcCount);
        Assert.Equal(0xAABBCCDDu, packet.GetCsrc(0));
        Assert.Equal(RtpPacket.OneByteExtensionProfile, packet.ExtensionProfile);
        Assert.Equal(32, packet.HeaderLength);
        Assert.Equal(new byte[] { 1, 2, 3 }, packet.Payload.ToArray());

        Assert.True(packet.TryGetExtension(1, out var one));
        Assert.Equal(new byte[] { 0x7F }, one.ToArray());
        Assert.True(packet.TryGetExtension(2, out var two));
        Assert.Equal(new byte[] { 1, 2 }, two.ToArray());
        Assert.True(packet.TryGetExtension(3, out var three));
        Assert.Equal(new byte[] { 0x0A, 0x0B, 0x0C, 0x0D }, three.ToArray());
        Assert.False(packet.TryGetExtension(4, out _));
    }

    [Fact]
    public void Setters_rewrite_the_header_in_place()
    {
        var bytes = OneBytePacket();
        Assert.True(RtpPacket.TryParse(bytes, out var packet));
        packet.Marker = false;
        packet.PayloadType = 111;
        packet.SequenceNumber = 65535;
        packet.Timestamp = 7;
        packet.Ssrc = 0xCAFEBABE;

        Assert.Equal(new byte[] { 0x91, 111, 0xFF, 0xFF, 0, 0, 0, 7, 0xCA, 0xFE, 0xBA, 0xBE }, bytes[..12]);
        Assert.True(RtpPacket.TryParse(bytes, out var again));
        Assert.False(again.Marker);
        Assert.Equal(111, again.PayloadType);
    }

    [Fact]
    public void Extension_value_is_rewritten_in_place_only_with_the_same_length()
    {
        var bytes = OneBytePacket();
        Assert.True(RtpPacket.TryParse(bytes, out var packet));
        Assert.True(packet.TrySetExtension(2, [0xAB, 0xCD]));
        Assert.False(packet.TrySetExtension(2, [0xAB]));
        Assert.False(packet.TrySetExtension(9, [0xAB, 0xCD]));
        Assert.Equal(new byte[] { 0x21, 0xAB, 0xCD }, bytes[23..26]);
    }

    [Fact]
    public void Parses_two_byte_extensions_including_zero_length_and_high_ids()
    {
        byte[] bytes =
        [
            0x90, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2,
            0x10, 0x00, 0x00, 0x02,
            0x01, 0x00, 0xF0, 0x02, 0x55, 0x66, 0x00, 0x00,
            0xEE,
        ];
        Assert.True(RtpPacket.TryParse(bytes, out var packet));
        Assert.True(packet.TryGetExtension(1, out var empty));
        Assert.Equal(0, empty.Length);
        Assert.True(packet.TryGetExtension(240, out var high));
        Assert.Equal(new byte[] { 0x55, 0x66 }, high.ToArray());
        Assert.Equal(new byte[] { 0xEE }, packet.Payload.ToArray());
    }

    [Fact]
    public void Padding_is_excluded_from_the_payload()
    {
        byte[] bytes = [0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 0, 0, 3];
        Assert.True(RtpPacket.TryParse(bytes, out var packet));
        Assert.Equal(new byte[] { 9, 9 }, packet.Payload.ToArray());
        Assert.Equal(3, packet.PaddingLength);
    }

    public static TheoryData<string, byte[]> MalformedPackets => new()
    {
        { "too short", new byte[] { 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0 } },
        { "version 1", new byte[] { 0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2 } },
        { "csrc count past the end", new byte[] { 0x82, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4 } },
        { "extension header cut", new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE } },
        { "extension length past the end", new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 2, 0x10, 1, 0, 0 } },
        { "padding count zero", new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 5, 0 } },
        { "padding larger than payload", new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 5, 9 } },
    };

    [Theory]
    [MemberData(nameof(MalformedPackets))]
    public void Malformed_packets_are_rejected(string reason, byte[] bytes)
    {
        Assert.False(RtpPacket.TryParse(bytes, out _), reason);
    }

    [Fact]
    public void Writer_builds_one_byte_extensions_and_replaces_by_id()
    {
        var buffer = new byte[200];
        var writer = new RtpPacketWriter(buffer, marker: true, payloadType: 96, sequenceNumber: 0x1234, timestamp: 0xDEADBEEF, ssrc: 0x11223344);
        Assert.True(writer.AddCsrc(0xAABBCCDD));
        Assert.True(writer.SetExtension(1, [0x7F]));
        Assert.True(writer.SetExtension(2, [9, 9, 9]));
        Assert.True(writer.SetExtension(3, [0x0A, 0x0B, 0x0C, 0x0D]));
        Assert.True(writer.SetExtension(2, [1, 2])); // replace with another length
        Assert.True(writer.TryComplete([1, 2, 3], out int length));

        byte[] expected =
        [
            0x91, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
            0xAA, 0xBB, 0xCC, 0xDD,
            0xBE, 0xDE, 0x00, 0x03,
            0x10, 0x7F, 0x33, 0x0A, 0x0B, 0x0C, 0x0D, 0x21, 0x01, 0x02, 0x00, 0x00,
            0x01, 0x02, 0x03,
        ];
        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void Writer_switches_to_two_byte_profile_when_an_element_needs_it()
    {
        var buffer = new byte[200];
        var writer = new RtpPacketWriter(buffer, false, 100, 1, 2, 3);
        Assert.True(writer.SetExtension(1, [0xAA]));
        Assert.True(writer.SetExtension(20, new byte[17]));
        Assert.True(writer.TryComplete([0x42], out int length, paddingLength: 4));

        Assert.True(RtpPacket.TryParse(buffer.AsSpan(0, length), out var packet));
        Assert.Equal(RtpPacket.TwoByteExtensionProfile, packet.ExtensionProfile);
        Assert.True(packet.TryGetExtension(1, out var one));
        Assert.Equal(new byte[] { 0xAA }, one.ToArray());
        Assert.True(packet.TryGetExtension(20, out var twenty));
        Assert.Equal(17, twenty.Length);
        Assert.Equal(new byte[] { 0x42 }, packet.Payload.ToArray());
        Assert.Equal(4, packet.PaddingLength);
    }

    [Fact]
    public void Writer_refuses_what_does_not_fit()
    {
        var buffer = new byte[20];
        var writer = new RtpPacketWriter(buffer, false, 100, 1, 2, 3);
        Assert.True(writer.SetExtension(1, [1, 2]));
        Assert.False(writer.TryComplete(new byte[10], out _));
        Assert.False(new RtpPacketWriter(new byte[8], false, 100, 1, 2, 3).TryComplete([], out _));
        var invalid = new RtpPacketWriter(new byte[40], false, 100, 1, 2, 3);
        Assert.False(invalid.SetExtension(0, [1]));
    }

    [Fact]
    public void Random_and_mutated_bytes_never_throw()
    {
        var random = new Random(3550);
        var valid = OneBytePacket();
        var buffer = new byte[64];
        for (int i = 0; i < 50_000; i++)
        {
            int length;
            if (i % 2 == 0)
            {
                length = random.Next(0, buffer.Length);
                random.NextBytes(buffer.AsSpan(0, length));
                buffer[0] = (byte)((buffer[0] & 0x3F) | 0x80);
            }
            else
            {
                length = random.Next(0, valid.Length + 1);
                valid.AsSpan(0, length).CopyTo(buffer);
                for (int m = random.Next(1, 4); m > 0 && length > 0; m--)
                {
                    buffer[random.Next(length)] ^= (byte)random.Next(1, 256);
                }
            }

            Exercise(buffer.AsSpan(0, length));
        }
    }

    internal static void Exercise(Span<byte> bytes)
    {
        if (!RtpPacket.TryParse(bytes, out var packet))
        {
            return;
        }

        _ = packet.Payload.Length + packet.Marker.GetHashCode() + packet.SequenceNumber + packet.Timestamp + packet.Ssrc;
        for (int c = 0; c < packet.CsrcCount; c++)
        {
            _ = packet.GetCsrc(c);
        }

        var extensions = packet.Extensions;
        while (extensions.TryReadNext(out _, out var value))
        {
            _ = value.Length;
        }

        _ = packet.TryGetTransportSequenceNumber(3, out _);
        _ = packet.TryGetAbsSendTime(2, out _);
        _ = KeyframeDetector.IsVp8Keyframe(packet.Payload);
        _ = KeyframeDetector.IsH264Keyframe(packet.Payload);
    }
}
