using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;

namespace Webinar.Sfu.Tests.Meetings;

public sealed class DirectoryPruningTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Tombstone_refuses_a_late_placement_until_its_retention_has_passed()
    {
        var directory = new MeetingDirectory(_clock);
        var meeting = new PlacedMeeting(Guid.NewGuid(), "node-a", null, null, 250);
        directory.Delete(meeting.MeetingId);

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, directory.PruneTombstones(TimeSpan.FromHours(1)));
        Assert.False(directory.Place(meeting));
        Assert.Null(directory.Find(meeting.MeetingId));

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, directory.PruneTombstones(TimeSpan.FromHours(1)));
        Assert.Equal(0, directory.TombstoneCount);
        Assert.False(directory.IsDeleted(meeting.MeetingId));
    }

    [Fact]
    public void Revocations_of_a_deleted_meeting_are_forgotten_and_others_kept()
    {
        var revoked = new RevokedAttendees(_clock);
        var (gone, kept) = (Guid.NewGuid(), Guid.NewGuid());
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        revoked.Revoke(gone, a);
        revoked.Revoke(gone, b);
        revoked.Revoke(kept, c);

        revoked.ForgetMeeting(gone);

        Assert.False(revoked.IsRevoked(a));
        Assert.False(revoked.IsRevoked(b));
        Assert.True(revoked.IsRevoked(c));
        Assert.Equal(1, revoked.Count);
    }

    [Fact]
    public void Janitor_forgets_revocations_and_tombstones_only_after_their_retention()
    {
        var directory = new MeetingDirectory(_clock);
        var revoked = new RevokedAttendees(_clock);
        var options = Options.Create(new SfuOptions { RevocationRetention = TimeSpan.FromHours(24), TombstoneRetention = TimeSpan.FromHours(1) });
        var janitor = new DirectoryJanitor(directory, revoked, options, _clock, NullLogger<DirectoryJanitor>.Instance);
        var attendee = Guid.NewGuid();
        revoked.Revoke(Guid.NewGuid(), attendee);
        directory.Delete(Guid.NewGuid());

        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal((1, 0), janitor.Prune());
        Assert.True(revoked.IsRevoked(attendee));

        _clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal((0, 1), janitor.Prune());
        Assert.False(revoked.IsRevoked(attendee));
    }
}
