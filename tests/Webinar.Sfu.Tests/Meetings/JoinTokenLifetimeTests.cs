using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;

namespace Webinar.Sfu.Tests.Meetings;

/// <summary>A revoked token never works again while it verifies, and rotated keys are picked up without a restart.</summary>
public sealed class JoinTokenLifetimeTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"webinar-keyfile-{Guid.NewGuid():N}.pem");
    private readonly ECDsa _first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _second = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    [Fact]
    public void A_revoked_token_stays_refused_through_the_clock_skew_past_its_expiry()
    {
        File.WriteAllText(_keyFile, _first.ExportSubjectPublicKeyInfoPem());
        var options = Options.Create(new SfuOptions { JoinTokenPublicKeyFile = _keyFile, RevocationRetention = Lifetime });
        var verifier = new JoinTokenKeyFile(options, _time, NullLogger<JoinTokenKeyFile>.Instance);
        var revoked = new RevokedAttendees(_time);
        var janitor = new DirectoryJanitor(new MeetingDirectory(_time), revoked, options, _time, NullLogger<DirectoryJanitor>.Instance);
        var meeting = Guid.NewGuid();
        var attendee = Guid.NewGuid();
        var token = Sign(_first, meeting, attendee);

        // Deleted a second after it was created: its revocation must outlive exp + the 30 s skew the verifier allows.
        _time.Advance(TimeSpan.FromSeconds(1));
        revoked.Revoke(meeting, attendee);
        _time.Advance(Lifetime + TimeSpan.FromSeconds(15));
        janitor.Prune();

        Assert.Equal(JoinTokenError.None, verifier.Verify(token, out _));
        Assert.True(revoked.IsRevoked(attendee), "the token verifies again but its revocation was forgotten");

        _time.Advance(TimeSpan.FromSeconds(20));
        janitor.Prune();
        Assert.Equal(JoinTokenError.Expired, verifier.Verify(token, out _));
        Assert.False(revoked.IsRevoked(attendee));
    }

    [Fact]
    public void A_node_picks_up_a_rotated_key_file_without_a_restart()
    {
        File.WriteAllText(_keyFile, _first.ExportSubjectPublicKeyInfoPem());
        var interval = TimeSpan.FromSeconds(10);
        var options = Options.Create(new SfuOptions { JoinTokenPublicKeyFile = _keyFile, JoinTokenKeyReloadInterval = interval });
        var verifier = new JoinTokenKeyFile(options, _time, NullLogger<JoinTokenKeyFile>.Instance);
        var oldToken = Sign(_first, Guid.NewGuid(), Guid.NewGuid());
        var newToken = Sign(_second, Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(JoinTokenError.UnknownKey, verifier.Verify(newToken, out _));

        // Rotation step 1: both public keys are published.
        File.WriteAllText(_keyFile, _first.ExportSubjectPublicKeyInfoPem() + "\n" + _second.ExportSubjectPublicKeyInfoPem());
        File.SetLastWriteTimeUtc(_keyFile, DateTime.UtcNow.AddMinutes(1));
        _time.Advance(interval);

        Assert.Equal(JoinTokenError.None, verifier.Verify(newToken, out var claims));
        Assert.NotNull(claims);
        Assert.Equal(JoinTokenError.None, verifier.Verify(oldToken, out _));

        // Step 2: the old key is withdrawn; a broken file in between changes nothing.
        File.WriteAllText(_keyFile, "not a key");
        File.SetLastWriteTimeUtc(_keyFile, DateTime.UtcNow.AddMinutes(2));
        _time.Advance(interval);
        Assert.Equal(JoinTokenError.None, verifier.Verify(oldToken, out _));

        File.WriteAllText(_keyFile, _second.ExportSubjectPublicKeyInfoPem());
        File.SetLastWriteTimeUtc(_keyFile, DateTime.UtcNow.AddMinutes(3));
        _time.Advance(interval);
        Assert.Equal(JoinTokenError.UnknownKey, verifier.Verify(oldToken, out _));
        Assert.Equal(JoinTokenError.None, verifier.Verify(newToken, out _));
    }

    public void Dispose()
    {
        File.Delete(_keyFile);
        _first.Dispose();
        _second.Dispose();
    }

    private string Sign(ECDsa key, Guid meeting, Guid attendee)
    {
        var now = _time.GetUtcNow();
        return new JoinTokenSigner(key).Sign(new JoinTokenClaims(meeting, attendee, "user", null, AttendeeCapabilities.SendReceiveAll, now, now + Lifetime));
    }
}
