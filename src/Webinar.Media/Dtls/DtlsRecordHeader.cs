using System.Buffers.Binary;

namespace Webinar.Media.Dtls;

/// <summary>
/// The 13-byte DTLS 1.0/1.2 record header (RFC 6347 §4.1): content type, version, epoch, 48-bit sequence number, length.
/// Used to sanity-check datagrams before they reach the handshake, and by diagnostics.
/// </summary>
public readonly struct DtlsRecordHeader
{
    public const int Size = 13;

    /// <summary>Largest record body RFC 6347 allows (2^14 plaintext + 2048 expansion).</summary>
    public const int MaxLength = 16384 + 2048;

    public const byte ChangeCipherSpec = 20;
    public const byte Alert = 21;
    public const byte Handshake = 22;
    public const byte ApplicationData = 23;

    private DtlsRecordHeader(byte contentType, ushort version, ushort epoch, ulong sequenceNumber, ushort length)
    {
        ContentType = contentType;
        Version = version;
        Epoch = epoch;
        SequenceNumber = sequenceNumber;
        Length = length;
    }

    public byte ContentType { get; }

    /// <summary>Wire version: 0xFEFF for DTLS 1.0, 0xFEFD for DTLS 1.2 (also the legacy version of DTLS 1.3 plaintext records).</summary>
    public ushort Version { get; }

    public ushort Epoch { get; }

    /// <summary>48-bit record sequence number.</summary>
    public ulong SequenceNumber { get; }

    /// <summary>Length of the record body that follows the header.</summary>
    public ushort Length { get; }

    /// <summary>
    /// Parses the header at the start of <paramref name="datagram"/>. False unless the content type is 20..25, the
    /// version's major byte is 0xFE (DTLS), and the body of <see cref="Length"/> bytes fits in the span. Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out DtlsRecordHeader header)
    {
        header = default;
        if (datagram.Length < Size)
        {
            return false;
        }

        var contentType = datagram[0];
        if (contentType is < ChangeCipherSpec or > 25)
        {
            return false;
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(datagram[1..]);
        if (version >> 8 != 0xFE)
        {
            return false;
        }

        var epoch = BinaryPrimitives.ReadUInt16BigEndian(datagram[3..]);
        var sequence = (ulong)BinaryPrimitives.ReadUInt16BigEndian(datagram[5..]) << 32
            | BinaryPrimitives.ReadUInt32BigEndian(datagram[7..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(datagram[11..]);
        if (length > MaxLength || length > datagram.Length - Size)
        {
            return false;
        }

        header = new DtlsRecordHeader(contentType, version, epoch, sequence, length);
        return true;
    }

    /// <summary>True when the datagram is a whole number of well-formed DTLS records (at least one). Never throws.</summary>
    public static bool IsWellFormedDatagram(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty)
        {
            return false;
        }

        while (!datagram.IsEmpty)
        {
            if (!TryParse(datagram, out var header))
            {
                return false;
            }

            datagram = datagram[(Size + header.Length)..];
        }

        return true;
    }
}
