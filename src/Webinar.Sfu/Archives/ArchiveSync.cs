namespace Webinar.Sfu.Archives;

/// <summary>
/// A sender report's pairing of the sender's wallclock (NTP, RFC 3550 §4: seconds since 1900 in 32.32 fixed point)
/// with the RTP time of the same instant (§6.4.1), in the recorded stream's timestamp space, at its clock rate.
/// </summary>
internal readonly record struct SenderReportClock(ulong Ntp, uint Rtp, int ClockRate)
{
    public static double NtpSeconds(ulong ntp) => (ntp >> 32) + ((ntp & 0xFFFF_FFFF) / 4_294_967_296.0);

    /// <summary>The sender's wallclock (NTP seconds) when <paramref name="rtpTimestamp"/> was sampled; within ±2^31 ticks of the report (wraparound safe).</summary>
    public double WallclockOf(uint rtpTimestamp) => NtpSeconds(Ntp) + (unchecked((int)(rtpTimestamp - Rtp)) / (double)ClockRate);
}

/// <summary>
/// Puts an archive's tracks on its timeline in sync (lip sync as receivers do it, RFC 3550 §6.4.1): each track's first
/// frame has an arrival time (seconds into the archive) and, once a sender report of its stream came, the sender's
/// wallclock of its capture. One attendee's tracks share that wallclock, so their capture instants are placed with
/// the delay of the least-delayed track (the others waited longer in the network or the sender's pacer): a track that
/// arrived later than its capture says is moved earlier. Different attendees' wallclocks are unrelated (different
/// machines), so each attendee is aligned on its own; a track without a sender report keeps its arrival time.
/// </summary>
internal static class ArchiveSync
{
    /// <summary>Where each track's first frame goes, seconds into the archive, by <see cref="TrackInfo.Index"/>.</summary>
    public static Dictionary<int, double> StartOffsets(IEnumerable<TrackInfo> tracks)
    {
        var starts = new Dictionary<int, double>();
        foreach (var attendee in tracks.GroupBy(t => t.AttendeeId))
        {
            var synced = attendee.Where(t => t.FirstFrameOffset is not null && t.FirstFrameWallclock is not null).ToList();
            // Archive time of the sender's wallclock zero, by the least-delayed track.
            var origin = synced.Count > 0 ? synced.Min(t => t.FirstFrameOffset!.Value - t.FirstFrameWallclock!.Value) : 0;
            foreach (var t in attendee)
            {
                starts[t.Index] = t.FirstFrameOffset is { } arrived && t.FirstFrameWallclock is { } captured
                    ? Math.Round(Math.Max(0, origin + captured), 3)
                    : t.FirstFrameOffset ?? t.StartOffset;
            }
        }

        return starts;
    }
}
