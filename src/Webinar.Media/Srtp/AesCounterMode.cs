using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Webinar.Media.Srtp;

/// <summary>
/// AES in counter mode (RFC 3711 §4.1.1) over a reused ECB transform: counter blocks and keystream live in two
/// scratch arrays owned by the instance, so applying it allocates nothing. Not thread-safe.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    private const int BlockSize = 16;
    private const int ChunkBlocks = 96; // 1536 bytes: one ECB call covers an MTU-sized payload.

    private readonly Aes _aes;
    private readonly ICryptoTransform _ecb;
    private readonly byte[] _counters = new byte[ChunkBlocks * BlockSize];
    private readonly byte[] _keystream = new byte[ChunkBlocks * BlockSize];

    public AesCounterMode(ReadOnlySpan<byte> key)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
    }

    /// <summary>XORs <paramref name="data"/> with the keystream that starts at the 16-byte counter <paramref name="iv"/>.</summary>
    public void Apply(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        ulong high = BinaryPrimitives.ReadUInt64BigEndian(iv);
        ulong low = BinaryPrimitives.ReadUInt64BigEndian(iv.Slice(8));
        int offset = 0;
        while (offset < data.Length)
        {
            int remaining = data.Length - offset;
            int blocks = Math.Min(ChunkBlocks, (remaining + BlockSize - 1) / BlockSize);
            Span<byte> counters = _counters.AsSpan(0, blocks * BlockSize);
            for (int b = 0; b < blocks; b++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(counters.Slice(b * BlockSize), high);
                BinaryPrimitives.WriteUInt64BigEndian(counters.Slice((b * BlockSize) + 8), low);
                low++;
                if (low == 0)
                {
                    high++;
                }
            }

            _ecb.TransformBlock(_counters, 0, blocks * BlockSize, _keystream, 0);
            int count = Math.Min(blocks * BlockSize, remaining);
            Xor(data.Slice(offset, count), _keystream.AsSpan(0, count));
            offset += count;
        }
    }

    public void Dispose()
    {
        _ecb.Dispose();
        _aes.Dispose();
    }

    private static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        int words = data.Length / 8;
        Span<ulong> data64 = MemoryMarshal.Cast<byte, ulong>(data.Slice(0, words * 8));
        ReadOnlySpan<ulong> key64 = MemoryMarshal.Cast<byte, ulong>(keystream.Slice(0, words * 8));
        for (int i = 0; i < data64.Length; i++)
        {
            data64[i] ^= key64[i];
        }

        for (int i = words * 8; i < data.Length; i++)
        {
            data[i] ^= keystream[i];
        }
    }
}
