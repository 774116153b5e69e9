using System.Buffers.Binary;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// Random and mutated datagrams of every shape RFC 7983 demultiplexes on (STUN, DTLS, RTP, RTCP, neither), for the
/// in-process loop fuzz and the live-node campaign. Seeds are valid packets of each kind (a real ICE check when
/// given, a DTLS ClientHello record, SRTP and SRTCP-shaped packets); mutations flip, truncate or extend them.
/// Deterministic for a given seed. Not thread-safe.
/// </summary>
internal sealed class HostileDatagrams
{
    private readonly Random _random;
    private readonly byte[][] _seeds;

    public HostileDatagrams(int seed, params byte[][] validSeeds)
    {
        _random = new Random(seed);
        _seeds = [.. validSeeds, DtlsClientHello(), SrtpShaped(), SrtcpNack()];
    }

    /// <summary>Writes the next hostile datagram into <paramref name="buffer"/> (at least 1,500 bytes); returns its length.</summary>
    public int Next(Span<byte> buffer, bool includeDtls = true)
    {
        var shape = _random.Next(includeDtls ? 8 : 7);
        if (shape == 0)
        {
            // A valid packet with a few bytes flipped, sometimes cut short or with bytes appended.
            var seed = _seeds[_random.Next(_seeds.Length)];
            if (!includeDtls && seed.Length > 0 && seed[0] is >= 20 and <= 63)
            {
                seed = _seeds[0];
            }

            seed.CopyTo(buffer);
            var length = seed.Length;
            for (var flips = _random.Next(1, 4); flips > 0; flips--)
            {
                buffer[_random.Next(length)] ^= (byte)_random.Next(1, 256);
            }

            return _random.Next(4) switch
            {
                0 => _random.Next(length),
                1 => Extend(buffer, length),
                _ => length,
            };
        }

        var size = _random.Next(0, 1300);
        var datagram = buffer[..size];
        _random.NextBytes(datagram);
        if (size < 12)
        {
            return size;
        }

        switch (shape)
        {
            case 1: // STUN-like: right first byte and magic cookie, random body and attributes
                datagram[0] = (byte)_random.Next(0, 4);
                BinaryPrimitives.WriteUInt32BigEndian(datagram[4..], 0x2112A442);
                BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], (ushort)_random.Next(0, size));
                break;
            case 2: // RTP-like
                datagram[0] = (byte)(0x80 | _random.Next(0, 0x40));
                datagram[1] = (byte)_random.Next(0, 128);
                break;
            case 3: // RTCP-like
                datagram[0] = (byte)(0x80 | _random.Next(0, 0x20));
                datagram[1] = (byte)_random.Next(192, 224);
                break;
            case 4: // neither: first byte outside every RFC 7983 range
                datagram[0] = (byte)(_random.Next(2) == 0 ? _random.Next(64, 128) : _random.Next(192, 256));
                break;
            case 5: // STUN first byte without the cookie
                datagram[0] = (byte)_random.Next(0, 4);
                break;
            case 6: // RTCP with a plausible length field and an SRTCP-like trailer
                datagram[0] = 0x81;
                datagram[1] = (byte)_random.Next(200, 207);
                BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], (ushort)((size / 4) - 1 - _random.Next(0, 8)));
                if (size >= 16)
                {
                    datagram[^14] |= 0x80;
                }
                break;
            case 7: // DTLS-like record header, sometimes a handshake with a sane length
                datagram[0] = (byte)_random.Next(20, 64);
                datagram[1] = 0xFE;
                datagram[2] = 0xFD;
                if (size >= 13 && _random.Next(2) == 0)
                {
                    datagram[0] = 22;
                    BinaryPrimitives.WriteUInt16BigEndian(datagram[11..], (ushort)(size - 13));
                }

                break;
        }

        return size;
    }

    public byte[] NextArray(bool includeDtls = true)
    {
        var buffer = new byte[1500];
        return buffer[..Next(buffer, includeDtls)];
    }

    private int Extend(Span<byte> buffer, int length)
    {
        var extra = _random.Next(1, 64);
        var end = Math.Min(buffer.Length, length + extra);
        _random.NextBytes(buffer[length..end]);
        return end;
    }

    /// <summary>A DTLS 1.2 record carrying the start of a ClientHello (RFC 6347 §4.2.2 layout).</summary>
    private static byte[] DtlsClientHello()
    {
        var record = new byte[13 + 12 + 2 + 32 + 1 + 1 + 2 + 4 + 2];
        record[0] = 22; // handshake
        record[1] = 0xFE;
        record[2] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(11), (ushort)(record.Length - 13));
        var hs = record.AsSpan(13);
        hs[0] = 1; // client_hello
        var body = record.Length - 13 - 12;
        hs[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(hs[2..], (ushort)body);
        BinaryPrimitives.WriteUInt16BigEndian(hs[10..], (ushort)body);
        hs[12] = 0xFE;
        hs[13] = 0xFD;
        new Random(6347).NextBytes(hs.Slice(14, 32));
        BinaryPrimitives.WriteUInt16BigEndian(hs[48..], 2);
        BinaryPrimitives.WriteUInt16BigEndian(hs[50..], 0xC02B);
        return record;
    }

    /// <summary>An RTP header with a one-byte extension and a payload, 10 bytes of "tag".</summary>
    private static byte[] SrtpShaped()
    {
        var packet = new byte[12 + 8 + 100 + 10];
        packet[0] = 0x90;
        packet[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 4242);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 0xDEADBEEF);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(12), 0xBEDE);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(14), 1);
        return packet;
    }

    /// <summary>A generic NACK with an E||index trailer and 10 bytes of "tag".</summary>
    private static byte[] SrtcpNack()
    {
        var packet = new byte[16 + 4 + 10];
        packet[0] = 0x81;
        packet[1] = 205;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 3);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), 0x0001FFFF);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), 0x80000001);
        return packet;
    }
}
