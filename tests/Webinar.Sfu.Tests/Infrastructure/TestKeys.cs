using System.Security.Cryptography;
using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>A join-token key pair for one fixture: the node gets the public key as a PEM file.</summary>
internal sealed class TestKeys : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestKeys()
    {
        Signer = new JoinTokenSigner(_key);
        PublicKeyFile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"webinar-sfu-test-{Guid.NewGuid():N}.pub.pem");
        File.WriteAllText(PublicKeyFile, _key.ExportSubjectPublicKeyInfoPem());
    }

    public JoinTokenSigner Signer { get; }

    public string PublicKeyFile { get; }

    public string Token(Guid meetingId, Guid attendeeId, string externalUserId, Guid? primaryMeetingId = null, AttendeeCapabilities? capabilities = null, TimeSpan? validFor = null)
    {
        var now = DateTimeOffset.UtcNow;
        var expires = now + (validFor ?? TimeSpan.FromHours(1));
        var issued = validFor is { } v && v < TimeSpan.Zero ? expires - TimeSpan.FromHours(1) : now;
        capabilities ??= primaryMeetingId is null ? AttendeeCapabilities.SendReceiveAll : AttendeeCapabilities.ReceiveAll;
        return Signer.Sign(new JoinTokenClaims(meetingId, attendeeId, externalUserId, primaryMeetingId, capabilities, issued, expires));
    }

    public void Dispose()
    {
        File.Delete(PublicKeyFile);
        _key.Dispose();
    }
}
