using Webinar.Media.Srtp;
using Webinar.Media.Tests.Fuzzing;

namespace Webinar.Media.Tests.Srtp;

public sealed class SrtpFuzzTests
{
    [Theory]
    [InlineData(SrtpProfile.Aes128CmHmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public void Random_datagrams_are_rejected_cleanly_by_unprotect(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = SrtpSessionTests.Pair(profile);
        using (sender)
        using (receiver)
        {
            foreach (byte[] datagram in FuzzStunSrtpInputs.RandomDatagrams(5_000, seed: 3711, maxLength: 300))
            {
                byte[] copy = (byte[])datagram.Clone();
                Assert.NotEqual(SrtpResult.Ok, receiver.UnprotectRtp(copy, copy.Length, out _));
                copy = (byte[])datagram.Clone();
                Assert.NotEqual(SrtpResult.Ok, receiver.UnprotectRtcp(copy, copy.Length, out _));
            }
        }
    }

    [Theory]
    [InlineData(SrtpProfile.Aes128CmHmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public void Mutated_protected_packets_are_rejected_and_never_throw(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = SrtpSessionTests.Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] rtp = SrtpSessionTests.Protect(sender, SrtpSessionTests.Rtp(77, 3, payloadLength: 60));
            var rtcpBuffer = new byte[64];
            Convert.FromHexString("81c900021122334400000001000000aa").CopyTo(rtcpBuffer, 0);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(rtcpBuffer, 16, out int rtcpLength));
            byte[] rtcp = rtcpBuffer.AsSpan(0, rtcpLength).ToArray();

            foreach (byte[] mutant in FuzzStunSrtpInputs.Mutations(rtp, 5_000, seed: 1))
            {
                bool same = mutant.AsSpan().SequenceEqual(rtp);
                SrtpResult result = receiver.UnprotectRtp(mutant, mutant.Length, out _);
                Assert.True(same || result != SrtpResult.Ok, "a mutated SRTP packet was accepted");
            }

            foreach (byte[] mutant in FuzzStunSrtpInputs.Mutations(rtcp, 5_000, seed: 2))
            {
                bool same = mutant.AsSpan().SequenceEqual(rtcp);
                SrtpResult result = receiver.UnprotectRtcp(mutant, mutant.Length, out _);
                Assert.True(same || result != SrtpResult.Ok, "a mutated SRTCP packet was accepted");
            }
        }
    }

    [Fact]
    public void Random_plaintext_is_either_protected_or_rejected_never_throws()
    {
        (SrtpSession sender, SrtpSession receiver) = SrtpSessionTests.Pair(SrtpProfile.AeadAes128Gcm);
        using (sender)
        using (receiver)
        {
            int protectedCount = 0;
            foreach (byte[] datagram in FuzzStunSrtpInputs.RandomDatagrams(5_000, seed: 42, maxLength: 200))
            {
                var buffer = new byte[datagram.Length + SrtpSession.MaxOverhead];
                datagram.CopyTo(buffer, 0);
                SrtpResult rtp = sender.ProtectRtp(buffer, datagram.Length, out _);
                datagram.CopyTo(buffer, 0);
                SrtpResult rtcp = sender.ProtectRtcp(buffer, datagram.Length, out _);

                bool versionTwo = datagram.Length > 0 && (datagram[0] >> 6) == 2;
                if (!versionTwo && datagram.Length >= 12)
                {
                    Assert.Equal(SrtpResult.Malformed, rtp);
                    Assert.Equal(SrtpResult.Malformed, rtcp);
                }

                Assert.True(rtp is SrtpResult.Ok or SrtpResult.Malformed or SrtpResult.TooShort, rtp.ToString());
                protectedCount += rtp == SrtpResult.Ok ? 1 : 0;
            }

            Assert.True(protectedCount > 0);
        }
    }
}
