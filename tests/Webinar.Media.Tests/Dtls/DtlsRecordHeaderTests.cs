using Webinar.Media.Dtls;

namespace Webinar.Media.Tests.Dtls;

public sealed class DtlsRecordHeaderTests
{
    [Fact]
    public void Parses_every_field_of_a_dtls_1_2_handshake_record()
    {
        byte[] record = [22, 0xFE, 0xFD, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x03, 0xAA, 0xBB, 0xCC];

        Assert.True(DtlsRecordHeader.TryParse(record, out var header));

        Assert.Equal(DtlsRecordHeader.Handshake, header.ContentType);
        Assert.Equal(0xFEFD, header.Version);
        Assert.Equal(1, header.Epoch);
        Assert.Equal(0x0000_0102_0304UL, header.SequenceNumber);
        Assert.Equal(3, header.Length);
    }

    [Fact]
    public void Reads_the_full_48_bit_sequence_number()
    {
        byte[] record = [23, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00];

        Assert.True(DtlsRecordHeader.TryParse(record, out var header));

        Assert.Equal(0xFFFF_FFFF_FFFFUL, header.SequenceNumber);
        Assert.Equal(0xFFFF, header.Epoch);
        Assert.Equal(0xFEFF, header.Version);
    }

    [Theory]
    [InlineData(new byte[] { }, "empty")]
    [InlineData(new byte[] { 22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "12 bytes")]
    [InlineData(new byte[] { 19, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "content type below 20")]
    [InlineData(new byte[] { 26, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "content type above 25")]
    [InlineData(new byte[] { 22, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "TLS, not DTLS, version")]
    [InlineData(new byte[] { 22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, "length beyond the datagram")]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 0, 0, 0, 0, 0 }, "a STUN header")]
    [InlineData(new byte[] { 0x80, 0x6F, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "an RTP header")]
    public void Rejects_what_is_not_a_dtls_record(byte[] bytes, string why)
    {
        Assert.False(DtlsRecordHeader.TryParse(bytes, out _), why);
        Assert.False(DtlsRecordHeader.IsWellFormedDatagram(bytes), why);
    }

    [Fact]
    public void A_datagram_of_several_records_is_well_formed_only_when_they_tile_it_exactly()
    {
        byte[] twoRecords =
        [
            20, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 1,
            22, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 9, 9,
        ];

        Assert.True(DtlsRecordHeader.IsWellFormedDatagram(twoRecords));
        Assert.False(DtlsRecordHeader.IsWellFormedDatagram(twoRecords.AsSpan(0, twoRecords.Length - 1)));
        Assert.False(DtlsRecordHeader.IsWellFormedDatagram([.. twoRecords, 0x00]));
    }

    [Fact]
    public void Random_bytes_never_throw_and_any_accepted_header_is_consistent()
    {
        var random = new Random(6347);
        var buffer = new byte[64];
        for (var i = 0; i < 20_000; i++)
        {
            var length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer);
            if (i % 2 == 0 && length > 2)
            {
                // Half the cases look like DTLS up front so the deeper checks are reached.
                buffer[0] = (byte)random.Next(20, 26);
                buffer[1] = 0xFE;
            }

            var span = buffer.AsSpan(0, length);
            if (DtlsRecordHeader.TryParse(span, out var header))
            {
                Assert.InRange(header.ContentType, (byte)20, (byte)25);
                Assert.Equal(0xFE, header.Version >> 8);
                Assert.True(DtlsRecordHeader.Size + header.Length <= length);
                Assert.True(header.SequenceNumber < 1UL << 48);
            }

            _ = DtlsRecordHeader.IsWellFormedDatagram(span);
        }
    }

    [Fact]
    public void Mutated_real_records_never_throw()
    {
        var random = new Random(20);
        byte[] valid = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4, 21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 2, 0, 2, 1, 0];
        for (var i = 0; i < 20_000; i++)
        {
            var mutated = (byte[])valid.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            var cut = mutated.AsSpan(0, random.Next(mutated.Length + 1));
            _ = DtlsRecordHeader.TryParse(cut, out _);
            _ = DtlsRecordHeader.IsWellFormedDatagram(cut);
        }
    }
}
