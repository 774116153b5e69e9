using Webinar.Media.Sdp;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Tests.Media;

public sealed class SpareReceiveSlotsTests
{
    private static SpareSlot Slot(string mid, MediaKind kind, uint ssrc, string codec = "")
    {
        var media = new MediaDescription { Kind = kind == MediaKind.Audio ? "audio" : "video", Mid = mid };
        media.Codecs.Add(new SdpCodec(kind == MediaKind.Audio ? 111 : 96)
        {
            Name = codec.Length > 0 ? codec : kind == MediaKind.Audio ? "opus" : "VP8",
            ClockRate = kind == MediaKind.Audio ? 48000 : 90000,
        });
        return new SpareSlot(mid, kind, ssrc, media);
    }

    [Fact]
    public void A_stream_takes_the_first_spare_of_its_kind_in_m_line_order()
    {
        var slots = new SpareReceiveSlots(target: 2);
        slots.Reset([Slot("0", MediaKind.Audio, 10), Slot("1", MediaKind.Video, 11), Slot("2", MediaKind.Audio, 12), Slot("3", MediaKind.Video, 13)]);

        Assert.True(slots.TryTake(MediaKind.Video, "VP8", out var first));
        Assert.True(slots.TryTake(MediaKind.Video, "vp8", out var second));

        Assert.Equal(("1", 11u), (first.Mid, first.Ssrc));
        Assert.Equal(("3", 13u), (second.Mid, second.Ssrc));
        Assert.False(slots.TryTake(MediaKind.Video, "VP8", out _));
        Assert.Equal(2, slots.Count(MediaKind.Audio));
    }

    [Fact]
    public void A_spare_whose_answer_has_another_codec_is_not_taken()
    {
        var slots = new SpareReceiveSlots(target: 1);
        slots.Reset([Slot("0", MediaKind.Video, 10, codec: "H264")]);

        Assert.False(slots.TryTake(MediaKind.Video, "VP8", out _));
        Assert.True(slots.TryTake(MediaKind.Video, "H264", out var taken));
        Assert.Equal("0", taken.Mid);
    }

    [Fact]
    public void A_spare_keeps_its_ssrc_for_the_next_answer_and_a_taken_one_has_none_until_an_answer_reserves_it_again()
    {
        var slots = new SpareReceiveSlots(target: 1);
        slots.Reset([Slot("0", MediaKind.Audio, 10), Slot("1", MediaKind.Audio, 11)]);

        Assert.True(slots.TryTake(MediaKind.Audio, "opus", out _));

        Assert.Equal(0u, slots.SsrcOf("0"));
        Assert.Equal(11u, slots.SsrcOf("1"));
        Assert.Equal(0u, slots.SsrcOf("unknown"));
    }

    [Fact]
    public void Fewer_spares_than_the_target_of_either_kind_ask_for_a_top_up()
    {
        var slots = new SpareReceiveSlots(target: 2);
        slots.Reset([Slot("0", MediaKind.Audio, 10), Slot("1", MediaKind.Audio, 11), Slot("2", MediaKind.Video, 12), Slot("3", MediaKind.Video, 13)]);
        Assert.False(slots.NeedsTopUp);

        Assert.True(slots.TryTake(MediaKind.Audio, "opus", out _));

        Assert.True(slots.NeedsTopUp);
        slots.Reset([Slot("1", MediaKind.Audio, 11), Slot("4", MediaKind.Audio, 14), Slot("2", MediaKind.Video, 12), Slot("3", MediaKind.Video, 13)]);
        Assert.False(slots.NeedsTopUp);
    }

    [Fact]
    public void No_target_never_asks_for_a_top_up()
    {
        var slots = new SpareReceiveSlots(target: 0);
        slots.Reset([]);

        Assert.False(slots.NeedsTopUp);
        Assert.False(slots.TryTake(MediaKind.Audio, "opus", out _));
    }
}
