using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Webinar.Media.Srtp;

namespace Webinar.Media.Tests.Srtp;

public sealed class GcmHashTests
{
    [Fact]
    public void Ghash_of_the_gcm_specs_test_case_2_matches()
    {
        // McGrew and Viega, "The Galois/Counter Mode of Operation", Test Case 2: K = 0, P = 0^128, IV = 0^96.
        var hash = new GcmHash(Convert.FromHexString("66e94bd4ef8a2c3b884cfa59ca342b2e"));
        var result = new byte[16];

        hash.Compute([], Convert.FromHexString("0388dace60b6a392f328c2b971b2fe78"), result);

        Assert.Equal("f38cbb1ad69223dcc3457ae5b6b0f885", Convert.ToHexString(result).ToLowerInvariant());
    }

    [Fact]
    public void The_carry_less_multiplication_agrees_with_the_bit_by_bit_definition()
    {
        Assert.True(GcmHash.IsAccelerated, "this machine has PCLMULQDQ; the accelerated path is what runs in production");
        Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<ulong>(), 4)), words =>
        {
            var (hHigh, hLow, xHigh, xLow) = (words[0], words[1], words[2], words[3]);
            var h = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(h, hHigh);
            BinaryPrimitives.WriteUInt64BigEndian(h.AsSpan(8), hLow);
            var x = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(x, xHigh);
            BinaryPrimitives.WriteUInt64BigEndian(x.AsSpan(8), xLow);
            var fast = new byte[16];
            new GcmHash(h).MultiplyByH(x, fast);

            GcmHash.MultiplyPortable(xHigh, xLow, hHigh, hLow, out var zHigh, out var zLow);
            return BinaryPrimitives.ReadUInt64BigEndian(fast) == zHigh && BinaryPrimitives.ReadUInt64BigEndian(fast.AsSpan(8)) == zLow;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Gcm_srtp_unprotect_accepts_what_aesgcm_protected_and_refuses_any_flipped_bit_without_throwing()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 1400)), Arb.From(Gen.Choose(0, 15)), Arb.From(ArbMap.Default.GeneratorFor<int>()), (payloadLength, csrcs, seed) =>
        {
            (SrtpSession sender, SrtpSession receiver) = SrtpSessionTests.Pair(SrtpProfile.AeadAes128Gcm);
            using (sender)
            using (receiver)
            {
                var random = new Random(seed);
                var plain = new byte[12 + (4 * csrcs) + payloadLength];
                random.NextBytes(plain);
                plain[0] = (byte)(0x80 | csrcs);
                var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
                plain.CopyTo(buffer, 0);
                sender.ProtectRtp(buffer, plain.Length, out var length);
                var wire = buffer[..length];

                var flipped = (byte[])wire.Clone();
                var at = random.Next(12 + (4 * csrcs), length); // past the header the parser needs: payload or tag
                flipped[at] ^= (byte)(1 << random.Next(8));
                var refused = receiver.UnprotectRtp(flipped, length, out _) == SrtpResult.AuthenticationFailed;

                var accepted = receiver.UnprotectRtp(wire, length, out var plainLength) == SrtpResult.Ok
                    && wire.AsSpan(0, plainLength).SequenceEqual(plain);
                return refused && accepted;
            }
        }).QuickCheckThrowOnFailure();
    }
}
