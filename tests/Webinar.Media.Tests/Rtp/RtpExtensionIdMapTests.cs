using System.Buffers.Binary;
using Webinar.Media.Rtp;

namespace Webinar.Media.Tests.Rtp;

public sealed class RtpExtensionIdMapTests
{
    private static readonly byte[] Payload = [0xDE, 0xAD, 0xBE, 0xEF, 0x01];

    /// <summary>An RTP packet whose extension block is exactly <paramref name="block"/> (padded to 32 bits by the caller).</summary>
    private static byte[] Packet(ushort profile, ReadOnlySpan<byte> block)
    {
        var packet = new byte[RtpPacket.FixedHeaderLength + 4 + block.Length + Payload.Length];
        packet[0] = 0x90; // V=2, X=1
        packet[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 1000);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), 90000);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 0x11223344);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(12), profile);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(14), (ushort)(block.Length / 4));
        block.CopyTo(packet.AsSpan(16));
        Payload.CopyTo(packet.AsSpan(16 + block.Length));
        return packet;
    }

    private static List<(byte Id, byte[] Value)> Elements(byte[] packet)
    {
        Assert.True(RtpPacket.TryParse(packet, out var view));
        var found = new List<(byte, byte[])>();
        var reader = view.Extensions;
        while (reader.TryReadNext(out var id, out var value))
        {
            found.Add((id, value.ToArray()));
        }

        return found;
    }

    private static void Apply(RtpExtensionIdMap map, byte[] packet)
    {
        Assert.True(RtpPacket.TryParse(packet, out var view));
        map.Apply(view);
    }

    [Fact]
    public void One_byte_ids_are_renumbered_in_place_with_their_values_kept()
    {
        // id 1 (mid "a"), id 3 (2-byte twcc), id 5 (3-byte abs-send-time), then one padding byte.
        byte[] block = [0x10, (byte)'a', 0x31, 0xAB, 0xCD, 0x52, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00];
        var packet = Packet(RtpPacket.OneByteExtensionProfile, block);
        var length = packet.Length;
        var map = new RtpExtensionIdMap();
        map.Set(1, 4);
        map.Set(3, 14);
        map.Set(5, 2);

        Apply(map, packet);

        Assert.Equal(length, packet.Length);
        var elements = Elements(packet);
        Assert.Equal(3, elements.Count);
        Assert.Equal((byte)4, elements[0].Id);
        Assert.Equal("a"u8.ToArray(), elements[0].Value);
        Assert.Equal((byte)14, elements[1].Id);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, elements[1].Value);
        Assert.Equal((byte)2, elements[2].Id);
        Assert.Equal(new byte[] { 1, 2, 3 }, elements[2].Value);
        Assert.True(RtpPacket.TryParse(packet, out var view));
        Assert.Equal(Payload, view.Payload.ToArray());
    }

    [Fact]
    public void Two_byte_ids_are_renumbered_in_place_including_ids_above_14()
    {
        // id 20 with 3 bytes, id 1 with 0 bytes (allowed in the two-byte form), id 7 with 2 bytes, one padding byte.
        byte[] block = [20, 3, 9, 8, 7, 1, 0, 7, 2, 0x55, 0x66, 0];
        var packet = Packet(RtpPacket.TwoByteExtensionProfile, block);
        var map = new RtpExtensionIdMap();
        map.Set(20, 3);
        map.Set(1, 200);
        map.Set(7, 7);

        Apply(map, packet);

        var elements = Elements(packet);
        Assert.Equal(3, elements.Count);
        Assert.Equal((byte)3, elements[0].Id);
        Assert.Equal(new byte[] { 9, 8, 7 }, elements[0].Value);
        Assert.Equal((byte)200, elements[1].Id);
        Assert.Empty(elements[1].Value);
        Assert.Equal((byte)7, elements[2].Id);
        Assert.Equal(new byte[] { 0x55, 0x66 }, elements[2].Value);
    }

    [Fact]
    public void Elements_the_subscriber_did_not_negotiate_become_padding_the_parser_skips()
    {
        byte[] block = [0x10, (byte)'a', 0x31, 0xAB, 0xCD, 0x52, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00];
        var packet = Packet(RtpPacket.OneByteExtensionProfile, block);
        var before = (byte[])packet.Clone();
        var map = new RtpExtensionIdMap();
        map.Set(5, 2); // 1 and 3 are not mapped

        Apply(map, packet);

        var elements = Elements(packet);
        var only = Assert.Single(elements);
        Assert.Equal((byte)2, only.Id);
        Assert.Equal(new byte[] { 1, 2, 3 }, only.Value);
        Assert.Equal(before.Length, packet.Length);
        Assert.All(packet.AsSpan(16, 5).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(before.AsSpan(0, 16).ToArray(), packet.AsSpan(0, 16).ToArray()); // header untouched
        Assert.Equal(before.AsSpan(before.Length - Payload.Length).ToArray(), packet.AsSpan(packet.Length - Payload.Length).ToArray());
    }

    [Fact]
    public void One_byte_ids_mapped_beyond_14_are_erased_rather_than_corrupting_the_block()
    {
        byte[] block = [0x10, (byte)'a', 0x00, 0x00];
        var packet = Packet(RtpPacket.OneByteExtensionProfile, block);
        var map = new RtpExtensionIdMap();
        map.Set(1, 15);

        Apply(map, packet);

        Assert.Empty(Elements(packet));
    }

    [Fact]
    public void Two_byte_elements_without_a_mapping_are_erased_and_the_rest_still_parse()
    {
        byte[] block = [20, 3, 9, 8, 7, 1, 0, 7, 2, 0x55, 0x66, 0];
        var packet = Packet(RtpPacket.TwoByteExtensionProfile, block);
        var map = new RtpExtensionIdMap();
        map.Set(7, 9);

        Apply(map, packet);

        var only = Assert.Single(Elements(packet));
        Assert.Equal((byte)9, only.Id);
        Assert.Equal(new byte[] { 0x55, 0x66 }, only.Value);
    }

    [Fact]
    public void A_packet_without_extensions_is_left_exactly_as_it_was()
    {
        var packet = new byte[RtpPacket.FixedHeaderLength + Payload.Length];
        packet[0] = 0x80;
        packet[1] = 96;
        Payload.CopyTo(packet.AsSpan(RtpPacket.FixedHeaderLength));
        var before = (byte[])packet.Clone();
        var map = new RtpExtensionIdMap();
        map.Set(1, 2);

        Apply(map, packet);

        Assert.Equal(before, packet);
    }

    [Fact]
    public void Random_extension_blocks_never_throw_keep_their_length_and_stay_parseable()
    {
        var random = new Random(8285);
        ushort[] profiles = [RtpPacket.OneByteExtensionProfile, RtpPacket.TwoByteExtensionProfile, 0x1003, 0x0000, 0xFFFF];
        for (var iteration = 0; iteration < 20_000; iteration++)
        {
            var block = new byte[4 * random.Next(0, 16)];
            random.NextBytes(block);
            var packet = Packet(profiles[random.Next(profiles.Length)], block);
            var map = new RtpExtensionIdMap();
            for (var i = 0; i < 8; i++)
            {
                map.Set((byte)random.Next(256), (byte)random.Next(256));
            }

            var before = (byte[])packet.Clone();
            Apply(map, packet);

            Assert.Equal(before.Length, packet.Length);
            Assert.Equal(before.AsSpan(0, 16).ToArray(), packet.AsSpan(0, 16).ToArray());
            Assert.Equal(before.AsSpan(16 + block.Length).ToArray(), packet.AsSpan(16 + block.Length).ToArray());
            _ = Elements(packet); // the reader walks the rewritten block without throwing
        }
    }
}
