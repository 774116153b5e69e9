using System.Globalization;
using System.Security.Cryptography;
using MassTransit;
using Webinar.Contracts.Trust;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Trust;

/// <summary>A keys directory as infra/up provisions it: one P-256 key pair per principal, public keys side by side.</summary>
internal sealed class TrustKeys : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public TrustKeys(params string[] principals)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("webinar-trust-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "private"));
        foreach (var principal in principals)
        {
            Add(principal);
        }
    }

    public string Directory { get; }

    public ECDsa this[string principal] => _keys[principal];

    /// <summary>A new principal whose public key is in the directory (a node added later).</summary>
    public ECDsa Add(string principal)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(Path.Combine(Directory, "private", principal + ".key.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(Directory, principal + ".pub.pem"), key.ExportSubjectPublicKeyInfoPem());
        _keys[principal] = key;
        return key;
    }

    /// <summary>Sets the signature headers as <paramref name="principal"/> would, optionally at another time.</summary>
    public static void Sign<T>(SendContext<T> context, ECDsa key, string principal, DateTimeOffset? at = null)
        where T : class
    {
        context.MessageId ??= NewId.NextGuid();
        var signedAt = (at ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        context.Headers.Set(MessageSignature.SenderHeader, principal);
        context.Headers.Set(MessageSignature.SignedAtHeader, signedAt.ToString(CultureInfo.InvariantCulture));
        context.Headers.Set(MessageSignature.SignatureHeader, MessageSignature.Sign(key, context.Message, context.MessageId.Value, principal, signedAt));
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>A control plane that signs and verifies bus messages; its fake nodes sign their heartbeats with their own keys.</summary>
public sealed class TrustedControlPlaneFixture : ControlPlaneFixture
{
    internal TrustKeys Keys { get; } = new([BusPrincipals.ControlPlane, .. NodeRegions.Select(NodeId)]);

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Trust:KeysDirectory", Keys.Directory),
        new("Trust:ReloadInterval", "00:00:00.200"),
    ];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Keys.Dispose();
    }

    protected override void SignAsNode<T>(PublishContext<T> context, string nodeId) => TrustKeys.Sign(context, Keys[nodeId], nodeId);
}
