using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Webinar.Media.Srtp;

/// <summary>
/// GHASH of AES-GCM (NIST SP 800-38D §6.4) for one hash subkey H: the authentication half of GCM, so an SRTP receiver
/// can check a tag without <see cref="System.Security.Cryptography.AesGcm"/>, whose Decrypt throws on every forged
/// packet. Uses carry-less multiplication (PCLMULQDQ, the Gueron–Kounavis method with byte-reflected operands) where
/// the CPU has it; <see cref="IsAccelerated"/> says so, and callers keep AesGcm otherwise. <see cref="MultiplyPortable"/>
/// is the bit-by-bit definition, kept as the reference the fast path is tested against. No allocation.
/// </summary>
internal sealed class GcmHash
{
    private readonly Vector128<byte> _h;        // byte-reflected H, for the accelerated path
    private readonly ulong _hHigh, _hLow;       // H as written, for the portable path

    public GcmHash(ReadOnlySpan<byte> hashSubkey)
    {
        _hHigh = BinaryPrimitives.ReadUInt64BigEndian(hashSubkey);
        _hLow = BinaryPrimitives.ReadUInt64BigEndian(hashSubkey.Slice(8));
        if (IsAccelerated)
        {
            _h = Reflect(Vector128.Create(hashSubkey.Slice(0, 16)));
        }
    }

    public static bool IsAccelerated => Pclmulqdq.IsSupported && Ssse3.IsSupported && Sse2.IsSupported;

    /// <summary>
    /// GHASH_H(A || pad || C || pad || [len(A)]64 || [len(C)]64) into <paramref name="result"/> (16 bytes): the value
    /// the GCM tag is E_K(J0) xor'ed with.
    /// </summary>
    public void Compute(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> result)
    {
        Span<byte> lengths = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(lengths, (ulong)associatedData.Length * 8);
        BinaryPrimitives.WriteUInt64BigEndian(lengths.Slice(8), (ulong)ciphertext.Length * 8);
        if (IsAccelerated)
        {
            var y = Vector128<byte>.Zero;
            y = AbsorbAccelerated(y, associatedData);
            y = AbsorbAccelerated(y, ciphertext);
            y = AbsorbAccelerated(y, lengths);
            Reflect(y).CopyTo(result);
            return;
        }

        ulong high = 0, low = 0;
        AbsorbPortable(ref high, ref low, associatedData);
        AbsorbPortable(ref high, ref low, ciphertext);
        AbsorbPortable(ref high, ref low, lengths);
        BinaryPrimitives.WriteUInt64BigEndian(result, high);
        BinaryPrimitives.WriteUInt64BigEndian(result.Slice(8), low);
    }

    /// <summary>X·Y in GF(2^128) with GCM's bit order, by SP 800-38D Algorithm 1 (one bit at a time).</summary>
    internal static void MultiplyPortable(ulong xHigh, ulong xLow, ulong yHigh, ulong yLow, out ulong zHigh, out ulong zLow)
    {
        ulong vHigh = yHigh, vLow = yLow;
        zHigh = 0;
        zLow = 0;
        for (int i = 0; i < 128; i++)
        {
            ulong bit = i < 64 ? (xHigh >> (63 - i)) & 1 : (xLow >> (127 - i)) & 1;
            ulong mask = 0UL - bit;
            zHigh ^= vHigh & mask;
            zLow ^= vLow & mask;
            ulong carry = 0UL - (vLow & 1);
            vLow = (vLow >> 1) | (vHigh << 63);
            vHigh = (vHigh >> 1) ^ (0xE100_0000_0000_0000UL & carry);
        }
    }

    /// <summary>Test hook: one multiplication by H on the accelerated path, operands and result as written in GCM.</summary>
    internal void MultiplyByH(ReadOnlySpan<byte> x, Span<byte> result) =>
        Reflect(Multiply(Reflect(Vector128.Create(x.Slice(0, 16))), _h)).CopyTo(result);

    private Vector128<byte> AbsorbAccelerated(Vector128<byte> y, ReadOnlySpan<byte> data)
    {
        int full = data.Length & ~15;
        for (int offset = 0; offset < full; offset += 16)
        {
            y = Multiply(Sse2.Xor(y, Reflect(Vector128.Create(data.Slice(offset, 16)))), _h);
        }

        if (full < data.Length)
        {
            Span<byte> last = stackalloc byte[16];
            last.Clear();
            data.Slice(full).CopyTo(last);
            y = Multiply(Sse2.Xor(y, Reflect(Vector128.Create((ReadOnlySpan<byte>)last))), _h);
        }

        return y;
    }

    private void AbsorbPortable(ref ulong high, ref ulong low, ReadOnlySpan<byte> data)
    {
        Span<byte> block = stackalloc byte[16];
        for (int offset = 0; offset < data.Length; offset += 16)
        {
            block.Clear();
            data.Slice(offset, Math.Min(16, data.Length - offset)).CopyTo(block);
            MultiplyPortable(high ^ BinaryPrimitives.ReadUInt64BigEndian(block), low ^ BinaryPrimitives.ReadUInt64BigEndian(block.Slice(8)),
                _hHigh, _hLow, out high, out low);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Reflect(Vector128<byte> value) =>
        Ssse3.Shuffle(value, Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));

    /// <summary>a·b for byte-reflected operands: 4 carry-less products, a shift left by one, then the reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Multiply(Vector128<byte> aBytes, Vector128<byte> bBytes)
    {
        var a = aBytes.AsUInt64();
        var b = bBytes.AsUInt64();
        var t3 = Pclmulqdq.CarrylessMultiply(a, b, 0x00).AsUInt32();
        var t4 = Pclmulqdq.CarrylessMultiply(a, b, 0x10).AsUInt32();
        var t5 = Pclmulqdq.CarrylessMultiply(a, b, 0x01).AsUInt32();
        var t6 = Pclmulqdq.CarrylessMultiply(a, b, 0x11).AsUInt32();

        t4 = Sse2.Xor(t4, t5);
        t5 = Sse2.ShiftLeftLogical128BitLane(t4, 8);
        t4 = Sse2.ShiftRightLogical128BitLane(t4, 8);
        t3 = Sse2.Xor(t3, t5);
        t6 = Sse2.Xor(t6, t4);

        // The product of reflected operands is one bit short: shift the 256-bit t6:t3 left by one.
        var t7 = Sse2.ShiftRightLogical(t3, 31);
        var t8 = Sse2.ShiftRightLogical(t6, 31);
        t3 = Sse2.ShiftLeftLogical(t3, 1);
        t6 = Sse2.ShiftLeftLogical(t6, 1);
        var t9 = Sse2.ShiftRightLogical128BitLane(t7, 12);
        t8 = Sse2.ShiftLeftLogical128BitLane(t8, 4);
        t7 = Sse2.ShiftLeftLogical128BitLane(t7, 4);
        t3 = Sse2.Or(t3, t7);
        t6 = Sse2.Or(t6, t8);
        t6 = Sse2.Or(t6, t9);

        // Reduction modulo x^128 + x^7 + x^2 + x + 1.
        t7 = Sse2.ShiftLeftLogical(t3, 31);
        t8 = Sse2.ShiftLeftLogical(t3, 30);
        t9 = Sse2.ShiftLeftLogical(t3, 25);
        t7 = Sse2.Xor(t7, t8);
        t7 = Sse2.Xor(t7, t9);
        t8 = Sse2.ShiftRightLogical128BitLane(t7, 4);
        t7 = Sse2.ShiftLeftLogical128BitLane(t7, 12);
        t3 = Sse2.Xor(t3, t7);

        var t2 = Sse2.ShiftRightLogical(t3, 1);
        t4 = Sse2.ShiftRightLogical(t3, 2);
        t5 = Sse2.ShiftRightLogical(t3, 7);
        t2 = Sse2.Xor(t2, t4);
        t2 = Sse2.Xor(t2, t5);
        t2 = Sse2.Xor(t2, t8);
        t3 = Sse2.Xor(t3, t2);
        t6 = Sse2.Xor(t6, t3);
        return t6.AsByte();
    }
}
