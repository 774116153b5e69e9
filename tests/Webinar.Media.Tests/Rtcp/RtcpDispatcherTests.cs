using Webinar.Media.Rtcp;

namespace Webinar.Media.Tests.Rtcp;

public sealed class RtcpDispatcherTests
{
    [Fact]
    public void Each_message_of_a_compound_packet_reaches_the_listener_in_order()
    {
        var compound = new byte[512];
        var length = 0;
        Assert.True(RtcpSenderReport.TryWrite(compound.AsSpan(length), 0x1111, 0x0102030405060708, 9000, 10, 1200, [], out var n));
        length += n;
        Assert.True(RtcpReceiverReport.TryWrite(compound.AsSpan(length), 0x1111, [], out n)); // not acted on: skipped
        length += n;
        Assert.True(RtcpGenericNack.TryWrite(compound.AsSpan(length), 0x1111, 0x2222, [5, 6, 40], out n));
        length += n;
        Assert.True(RtcpPictureLossIndication.TryWrite(compound.AsSpan(length), 0x1111, 0x3333, out n));
        length += n;
        Assert.True(RtcpFullIntraRequest.TryWrite(compound.AsSpan(length), 0x1111, 0x4444, 1, out n));
        length += n;

        var listener = new Recorder([]);
        Assert.True(RtcpDispatcher.Dispatch(compound.AsSpan(0, length), ref listener));

        Assert.Equal(["SR 1111 0102030405060708 9000", "NACK 2222 5,6,40", "keyframe 3333", "keyframe 4444"], listener.Heard);
    }

    [Fact]
    public void A_malformed_packet_stops_the_walk_after_what_came_before_it()
    {
        var compound = new byte[512];
        Assert.True(RtcpPictureLossIndication.TryWrite(compound, 0x1111, 0x3333, out var length));
        Assert.True(RtcpPictureLossIndication.TryWrite(compound.AsSpan(length), 0x1111, 0x5555, out var second));

        var listener = new Recorder([]);
        Assert.False(RtcpDispatcher.Dispatch(compound.AsSpan(0, length + second - 1), ref listener)); // the second is cut short

        Assert.Equal(["keyframe 3333"], listener.Heard);
    }

    private readonly struct Recorder(List<string> heard) : IRtcpListener
    {
        public List<string> Heard => heard;

        public void OnSenderReport(in RtcpSenderReport report) => heard.Add($"SR {report.Ssrc:x} {report.NtpTimestamp:x16} {report.RtpTimestamp}");

        public void OnGenericNack(in RtcpGenericNack nack)
        {
            Span<ushort> lost = stackalloc ushort[64];
            var count = nack.GetLostSequenceNumbers(lost);
            heard.Add($"NACK {nack.MediaSsrc:x} {string.Join(',', lost[..count].ToArray())}");
        }

        public void OnTransportFeedback(in RtcpTransportFeedback feedback) => heard.Add("TWCC");

        public void OnKeyframeRequest(uint mediaSsrc) => heard.Add($"keyframe {mediaSsrc:x}");
    }
}
