using System.Buffers.Binary;
using Webinar.Media.Rtcp;
using Webinar.Sfu.Archives;

namespace Webinar.Sfu.Tests.Archives;

/// <summary>
/// Lip sync of archive tracks from RTCP sender reports laid out as RFC 3550 §6.4.1 publishes them (V=2, PT=200,
/// length 6, SSRC, NTP 32.32, RTP timestamp, packet and octet counts), parsed by the media stack's own parser.
/// </summary>
public sealed class ArchiveSyncTests
{
    // 2026-12-01 12:00:00 UTC in NTP seconds (since 1900-01-01), a fraction of 0.25 s.
    private const ulong WallclockSeconds = 3_973_665_600;

    [Fact]
    public void A_sender_report_maps_rtp_time_to_the_senders_wallclock_across_wraparound()
    {
        var sr = Parse(SenderReport(0x1234_5678, Ntp(WallclockSeconds, 0.25), rtp: 0xFFFF_FF00, packets: 100, octets: 12_000));
        Assert.Equal(0x1234_5678u, sr.Ssrc);
        var clock = new SenderReportClock(sr.NtpTimestamp, sr.RtpTimestamp, 90_000);

        Assert.Equal(WallclockSeconds + 0.25, clock.WallclockOf(0xFFFF_FF00), 6);
        // 9000 ticks (0.1 s) later, past the 32-bit wrap; and 0.1 s earlier.
        Assert.Equal(WallclockSeconds + 0.35, clock.WallclockOf(unchecked(0xFFFF_FF00u + 9000)), 6);
        Assert.Equal(WallclockSeconds + 0.15, clock.WallclockOf(0xFFFF_FF00u - 9000), 6);
    }

    [Fact]
    public void Audio_that_arrived_later_than_its_capture_says_is_moved_back_into_sync_with_the_video()
    {
        var attendee = Guid.NewGuid();
        // Both captured at wallclock W+0.10 s: video RTP 1_000_000 + 9_000 (90 kHz), audio 500_000 + 4_800 (48 kHz).
        // Reports: video at W+1.0 = RTP 1_090_000; audio at W+1.5 = RTP 572_000.
        var video = Track(0, attendee, "video", arrived: 2.0,
            Parse(SenderReport(1, Ntp(WallclockSeconds, 0), rtp: 1_090_000, packets: 30, octets: 30_000)), 90_000, firstRtp: 1_009_000, srOffset: 1.0);
        var audio = Track(1, attendee, "audio", arrived: 2.3,
            Parse(SenderReport(2, Ntp(WallclockSeconds, 0), rtp: 572_000, packets: 75, octets: 6_000)), 48_000, firstRtp: 504_800, srOffset: 1.5);

        var starts = ArchiveSync.StartOffsets([video, audio]);

        // Captured together, so placed together, at the less-delayed track's arrival.
        Assert.Equal(2.0, starts[0], 3);
        Assert.Equal(2.0, starts[1], 3);
    }

    [Fact]
    public void Each_attendee_is_aligned_alone_and_a_track_without_a_report_keeps_its_arrival()
    {
        var anna = Guid.NewGuid();
        var ben = Guid.NewGuid();
        var annaVideo = Track(0, anna, "video", arrived: 1.0,
            Parse(SenderReport(1, Ntp(WallclockSeconds, 0), rtp: 90_000, packets: 1, octets: 1)), 90_000, firstRtp: 0, srOffset: 1.0);
        var annaAudio = Track(1, anna, "audio", arrived: 1.0,
            Parse(SenderReport(2, Ntp(WallclockSeconds, 0), rtp: 48_000, packets: 1, octets: 1)), 48_000, firstRtp: 24_000, srOffset: 1.0); // captured 0.5 s after the video
        // Ben's machine's clock is a day off: it must not move Anna's tracks, nor his own relative to arrival.
        var benVideo = Track(2, ben, "video", arrived: 5.0,
            Parse(SenderReport(3, Ntp(WallclockSeconds + 86_400, 0), rtp: 90_000, packets: 1, octets: 1)), 90_000, firstRtp: 0, srOffset: 1.0);
        var benAudio = new TrackInfo(3, ben, "ben", "audio", "OPUS", "track-3-audio.ogg", 4.0) { FirstFrameOffset = 5.2 };

        var starts = ArchiveSync.StartOffsets([annaVideo, annaAudio, benVideo, benAudio]);

        // Anna's audio arrived with her video though captured 0.5 s later: the video was the delayed one, so it moves back.
        Assert.Equal(0.5, starts[0], 3);
        Assert.Equal(1.0, starts[1], 3);
        Assert.Equal(5.0, starts[2], 3);
        Assert.Equal(5.2, starts[3], 3);
    }

    [Fact]
    public void A_track_never_sent_keeps_the_offset_it_was_attached_at()
    {
        var track = new TrackInfo(0, Guid.NewGuid(), "x", "video", "VP8", "track-0-video.ivf", 3.5);
        Assert.Equal(3.5, ArchiveSync.StartOffsets([track])[0]);
    }

    /// <summary>A track whose first packet arrived at <paramref name="arrived"/>, with the report sent <paramref name="srOffset"/> s after the wallclock base.</summary>
    private static TrackInfo Track(int index, Guid attendee, string kind, double arrived, (uint Ssrc, ulong Ntp, uint Rtp) sr, int clockRate, uint firstRtp, double srOffset)
    {
        var clock = new SenderReportClock(sr.Ntp + (ulong)(srOffset * 4_294_967_296.0), sr.Rtp, clockRate);
        return new TrackInfo(index, attendee, "user", kind, kind == "video" ? "VP8" : "OPUS", $"track-{index}", arrived - 0.5)
        {
            FirstFrameOffset = arrived,
            FirstFrameWallclock = clock.WallclockOf(firstRtp),
        };
    }

    private static ulong Ntp(ulong seconds, double fraction) => (seconds << 32) | (ulong)(fraction * 4_294_967_296.0);

    /// <summary>An SR with no report blocks, byte for byte as RFC 3550 §6.4.1 lays it out.</summary>
    private static byte[] SenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets)
    {
        var packet = new byte[28];
        packet[0] = 0x80; // V=2, P=0, RC=0
        packet[1] = 200; // PT=SR
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 6); // length in 32-bit words minus one
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), (uint)(ntp >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), (uint)ntp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), rtp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(20), packets);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(24), octets);
        return packet;
    }

    private static (uint Ssrc, ulong NtpTimestamp, uint RtpTimestamp) Parse(byte[] bytes)
    {
        Assert.True(RtcpPacket.TryParse(bytes, out var packet));
        Assert.True(RtcpSenderReport.TryParse(packet, out var sr));
        return (sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp);
    }
}
