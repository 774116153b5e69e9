using Webinar.Media.Stun;
using Webinar.Media.Tests.Fuzzing;

namespace Webinar.Media.Tests.Stun;

public sealed class StunFuzzTests
{
    [Fact]
    public void Random_bytes_never_make_the_parser_throw()
    {
        int parsed = 0;
        foreach (byte[] datagram in FuzzStunSrtpInputs.RandomDatagrams(20_000, seed: 5769))
        {
            parsed += Exercise(datagram);
        }

        // Without the magic cookie nothing parses; a random hit is a 2^-32 event, so none of these may parse.
        Assert.Equal(0, parsed);
    }

    [Fact]
    public void Random_bytes_behind_a_valid_header_are_rejected_or_parsed_cleanly()
    {
        var random = new Random(8489);
        int accepted = 0;
        for (int i = 0; i < 20_000; i++)
        {
            int bodyLength = random.Next(0, 16) * 4;
            var datagram = new byte[20 + bodyLength];
            random.NextBytes(datagram);
            datagram[0] &= 0x3F;
            datagram[2] = (byte)(bodyLength >> 8);
            datagram[3] = (byte)bodyLength;
            datagram[4] = 0x21;
            datagram[5] = 0x12;
            datagram[6] = 0xA4;
            datagram[7] = 0x42;
            accepted += Exercise(datagram);
        }

        // Zero-length bodies are always valid, so the parser must accept some of these.
        Assert.True(accepted > 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Mutated_rfc5769_messages_are_rejected_or_fail_verification_never_throw(int which)
    {
        byte[] valid = which switch
        {
            0 => Rfc5769TestVectors.SampleRequest,
            1 => Rfc5769TestVectors.SampleIPv4Response,
            _ => Rfc5769TestVectors.SampleIPv6Response,
        };
        int verifiedMutants = 0;
        foreach (byte[] mutant in FuzzStunSrtpInputs.Mutations(valid, 10_000, seed: 100 + which))
        {
            Exercise(mutant);
            if (!mutant.AsSpan().SequenceEqual(valid) && StunMessage.TryParse(mutant, out StunMessage message)
                && message.VerifyMessageIntegrity("VOkJxbRl1RmTxUk/WvJxBt"u8)
                && message.VerifyFingerprint())
            {
                verifiedMutants++;
            }
        }

        // MESSAGE-INTEGRITY covers every byte before it (padding included) and FINGERPRINT everything: no change survives.
        Assert.Equal(0, verifiedMutants);
    }

    private static int Exercise(byte[] datagram)
    {
        if (!StunMessage.TryParse(datagram, out StunMessage message))
        {
            return 0;
        }

        foreach (StunAttribute attribute in message)
        {
            _ = attribute.Value.Length;
        }

        Span<byte> address = stackalloc byte[16];
        _ = message.Class;
        _ = message.Method;
        _ = message.TryGetUsername(out _);
        _ = message.TryGetPriority(out _);
        _ = message.TryGetIceControlling(out _);
        _ = message.TryGetIceControlled(out _);
        _ = message.TryGetErrorCode(out _, out _);
        _ = message.TryGetXorMappedAddress(address, out _, out _);
        _ = message.TryGetXorMappedAddress(out _);
        _ = message.VerifyMessageIntegrity("key"u8);
        _ = message.VerifyFingerprint();
        return 1;
    }
}
