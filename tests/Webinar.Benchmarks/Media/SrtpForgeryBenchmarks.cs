using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Webinar.Media.Srtp;

namespace Webinar.Benchmarks.Media;

/// <summary>
/// What a forged AEAD_AES_128_GCM packet costs the receiver (1200-byte RTP), before and after the tag check that does
/// not throw: <c>Bcl*</c> is .NET's <see cref="AesGcm"/> as the SRTP layer used it before (Decrypt throws
/// AuthenticationTagMismatchException on a wrong tag), <c>Srtp*</c> the SRTP session now. The valid-packet pair shows
/// what the change costs the normal path.
/// </summary>
[MemoryDiagnoser]
public class SrtpForgeryBenchmarks
{
    private const int PacketLength = 1200;
    private const int HeaderLength = 12;
    private const int TagLength = 16;

    private readonly byte[] _plain = new byte[PacketLength];
    private readonly byte[] _buffer = new byte[PacketLength + SrtpSession.MaxOverhead];
    private readonly byte[] _forged = new byte[PacketLength + SrtpSession.MaxOverhead];
    private readonly byte[] _nonce = new byte[12];
    private AesGcm _aesGcm = null!;
    private SrtpSession _sender = null!;
    private SrtpSession _receiver = null!;
    private int _forgedLength;
    private ushort _sequence;

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[16];
        var salt = new byte[12];
        new Random(1).NextBytes(key);
        new Random(2).NextBytes(salt);
        _aesGcm = new AesGcm(key, TagLength);
        _sender = new SrtpSession(SrtpProfile.AeadAes128Gcm, key, salt);
        _receiver = new SrtpSession(SrtpProfile.AeadAes128Gcm, key, salt);
        _plain[0] = 0x80;
        _plain[1] = 96;
        BinaryPrimitives.WriteUInt32BigEndian(_plain.AsSpan(8), 0x1234_5678);
        new Random(3).NextBytes(_plain.AsSpan(HeaderLength));

        _plain.CopyTo(_forged, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_forged.AsSpan(2), 40_000);
        using (var forger = new SrtpSession(SrtpProfile.AeadAes128Gcm, key, salt))
        {
            forger.ProtectRtp(_forged, PacketLength, out _forgedLength);
        }

        _forged[100] ^= 0x01;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aesGcm.Dispose();
        _sender.Dispose();
        _receiver.Dispose();
    }

    /// <summary>Before: AesGcm.Decrypt of a forged packet, the exception caught as the SRTP layer did.</summary>
    [Benchmark(Baseline = true)]
    public bool BclAesGcmForged()
    {
        _forged.AsSpan(0, _forgedLength).CopyTo(_buffer);
        var payload = _buffer.AsSpan(HeaderLength, PacketLength - HeaderLength);
        try
        {
            _aesGcm.Decrypt(_nonce, payload, _buffer.AsSpan(PacketLength, TagLength), payload, _buffer.AsSpan(0, HeaderLength));
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <summary>After: the SRTP session's unprotect of the same forged packet.</summary>
    [Benchmark]
    public SrtpResult SrtpForged()
    {
        _forged.AsSpan(0, _forgedLength).CopyTo(_buffer);
        return _receiver.UnprotectRtp(_buffer, _forgedLength, out _);
    }

    /// <summary>Before, valid packet: AesGcm encrypt then decrypt (what protect + unprotect cost with the BCL alone).</summary>
    [Benchmark]
    public bool BclAesGcmEncryptThenDecrypt()
    {
        _plain.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_nonce.AsSpan(10), ++_sequence);
        var payload = _buffer.AsSpan(HeaderLength, PacketLength - HeaderLength);
        var tag = _buffer.AsSpan(PacketLength, TagLength);
        var header = _buffer.AsSpan(0, HeaderLength);
        _aesGcm.Encrypt(_nonce, payload, payload, tag, header);
        _aesGcm.Decrypt(_nonce, payload, tag, payload, header);
        return true;
    }

    /// <summary>After, valid packet: protect (AesGcm) then unprotect (tag check, then counter mode).</summary>
    [Benchmark]
    public int SrtpProtectThenUnprotect()
    {
        _plain.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        _sender.ProtectRtp(_buffer, PacketLength, out var length);
        _receiver.UnprotectRtp(_buffer, length, out var plainLength);
        return plainLength;
    }
}
