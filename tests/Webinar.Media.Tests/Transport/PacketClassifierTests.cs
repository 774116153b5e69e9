using Webinar.Media.Tests.Fuzzing;
using Webinar.Media.Tests.Stun;
using Webinar.Media.Transport;

namespace Webinar.Media.Tests.Transport;

public sealed class PacketClassifierTests
{
    [Theory]
    [InlineData("16fefd000000000000000000000000", PacketKind.Dtls)] // DTLS handshake record
    [InlineData("17fefd000100000000000500000000", PacketKind.Dtls)] // DTLS application data
    [InlineData("806f000100000000cafebabe", PacketKind.Rtp)] // PT 111
    [InlineData("80e0000100000000cafebabe", PacketKind.Rtp)] // PT 96 with marker bit
    [InlineData("80c8000600000000", PacketKind.Rtcp)] // sender report (200)
    [InlineData("81c9000700000000", PacketKind.Rtcp)] // receiver report (201)
    [InlineData("8fcd000400000000", PacketKind.Rtcp)] // transport feedback (205)
    [InlineData("81ce000200000000", PacketKind.Rtcp)] // payload-specific feedback (206)
    [InlineData("80c0000100000000", PacketKind.Rtcp)] // 192, the bottom of the RTCP range
    [InlineData("80df000100000000", PacketKind.Rtcp)] // 223, the top of the RTCP range
    [InlineData("806f0001", PacketKind.Unknown)] // RTP shorter than its fixed header
    [InlineData("40000000000000000000", PacketKind.Unknown)] // TURN channel range
    [InlineData("10000000000000000000", PacketKind.Unknown)] // ZRTP range
    [InlineData("c0000000000000000000000000", PacketKind.Unknown)] // above the RTP range
    [InlineData("00", PacketKind.Unknown)]
    [InlineData("", PacketKind.Unknown)]
    [InlineData("000100002112a443b7e7a701bc34d686fa87dfae", PacketKind.Unknown)] // STUN without magic cookie
    public void Datagrams_are_classified_by_their_first_bytes(string hex, PacketKind expected)
    {
        Assert.Equal(expected, PacketClassifier.Classify(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Rfc5769_messages_classify_as_stun()
    {
        Assert.Equal(PacketKind.Stun, PacketClassifier.Classify(Rfc5769TestVectors.SampleRequest));
        Assert.Equal(PacketKind.Stun, PacketClassifier.Classify(Rfc5769TestVectors.SampleIPv6Response));
    }

    [Fact]
    public void Random_datagrams_classify_without_throwing()
    {
        int known = 0;
        foreach (byte[] datagram in FuzzStunSrtpInputs.RandomDatagrams(10_000, seed: 7983, maxLength: 40))
        {
            if (PacketClassifier.Classify(datagram) != PacketKind.Unknown)
            {
                known++;
            }
        }

        Assert.InRange(known, 1, 9_999);
    }
}
