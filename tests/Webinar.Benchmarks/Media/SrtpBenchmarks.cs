using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Webinar.Media.Srtp;

namespace Webinar.Benchmarks.Media;

/// <summary>Per-packet cost of SRTP protect and unprotect for a 1200-byte RTP packet, per profile.</summary>
[MemoryDiagnoser]
public class SrtpBenchmarks
{
    private const int PacketLength = 1200;
    private const uint Ssrc = 0x1234_5678;

    private readonly byte[] _plain = new byte[PacketLength];
    private readonly byte[] _buffer = new byte[PacketLength + SrtpSession.MaxOverhead];
    private SrtpSession _sender = null!;
    private SrtpSession _receiver = null!;
    private readonly byte[] _forged = new byte[PacketLength + SrtpSession.MaxOverhead];
    private int _forgedLength;
    private ushort _sequence;

    [Params(SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[SrtpProfiles.MasterKeyLength(Profile)];
        var salt = new byte[SrtpProfiles.MasterSaltLength(Profile)];
        new Random(1).NextBytes(key);
        new Random(2).NextBytes(salt);
        _sender = new SrtpSession(Profile, key, salt);
        _receiver = new SrtpSession(Profile, key, salt);

        _plain[0] = 0x80;
        _plain[1] = 96;
        BinaryPrimitives.WriteUInt32BigEndian(_plain.AsSpan(8), Ssrc);
        new Random(3).NextBytes(_plain.AsSpan(12));

        // A packet as a forger would send it: the right shape and a fresh index, one payload byte changed.
        _plain.CopyTo(_forged, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_forged.AsSpan(2), 40_000);
        using (var forger = new SrtpSession(Profile, key, salt))
        {
            forger.ProtectRtp(_forged, PacketLength, out _forgedLength);
        }

        _forged[100] ^= 0x01;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public int ProtectRtp()
    {
        _plain.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        _sender.ProtectRtp(_buffer, PacketLength, out int length);
        return length;
    }

    /// <summary>
    /// The receiver's replay window refuses a packet it has seen, so unprotect is measured on a freshly protected
    /// packet each time: unprotect alone is this figure minus <see cref="ProtectRtp"/>.
    /// </summary>
    [Benchmark]
    public int ProtectThenUnprotectRtp()
    {
        _plain.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        _sender.ProtectRtp(_buffer, PacketLength, out int length);
        _receiver.UnprotectRtp(_buffer, length, out int plainLength);
        return plainLength;
    }

    /// <summary>
    /// A forged packet (fresh index, wrong tag): what each datagram of a flood of forgeries costs the receiver, the
    /// copy into the receive buffer included.
    /// </summary>
    [Benchmark]
    public SrtpResult UnprotectForgedRtp()
    {
        _forged.AsSpan(0, _forgedLength).CopyTo(_buffer);
        return _receiver.UnprotectRtp(_buffer, _forgedLength, out _);
    }
}
