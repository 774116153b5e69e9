using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Webinar.Contracts.Trust;

/// <summary>
/// This component's P-256 key pair and the public keys of every principal, read from <see cref="BusTrustOptions"/>.
/// The same key signs this component's messages (ECDSA) and opens relay keys sealed to it (ECDH). Public keys are
/// read again, at most once per <see cref="BusTrustOptions.ReloadInterval"/>, when a message names a sender not yet
/// known, so a node added later is picked up without restarts.
/// </summary>
public sealed class BusKeys : IDisposable
{
    private readonly string? _directory;
    private readonly TimeSpan _reloadInterval;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ECDsa> _public = new(StringComparer.Ordinal);
    private readonly object _reloadLock = new();
    private long _lastReload = long.MinValue;

    public BusKeys(string principal, BusTrustOptions options, TimeProvider time)
    {
        Principal = principal;
        _time = time;
        _reloadInterval = options.ReloadInterval;
        if (string.IsNullOrWhiteSpace(options.KeysDirectory))
        {
            return;
        }

        _directory = options.KeysDirectory;
        var privateFile = options.PrivateKeyFile ?? Path.Combine(_directory, "private", principal + ".key.pem");
        if (!File.Exists(privateFile))
        {
            throw new InvalidOperationException(
                $"Bus trust is configured (Trust:KeysDirectory = {_directory}) but the private key of '{principal}' is missing: {privateFile}.");
        }

        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(privateFile));
        if (key.KeySize != 256)
        {
            throw new InvalidOperationException($"{privateFile} must hold a P-256 key.");
        }

        SigningKey = key;
        AgreementKey = ECDiffieHellman.Create(key.ExportParameters(includePrivateParameters: true));
        Reload(force: true);
    }

    /// <summary>Who this component is on the bus: <see cref="BusPrincipals.ControlPlane"/> or its node id.</summary>
    public string Principal { get; }

    /// <summary>Whether messages are signed and verified (a keys directory is configured).</summary>
    public bool Enabled => SigningKey is not null;

    internal ECDsa? SigningKey { get; }

    internal ECDiffieHellman? AgreementKey { get; }

    /// <summary>The public key of <paramref name="principal"/>, reading the directory again if it is not known yet.</summary>
    public ECDsa? PublicKey(string principal)
    {
        if (_public.TryGetValue(principal, out var key))
        {
            return key;
        }

        Reload(force: false);
        return _public.GetValueOrDefault(principal);
    }

    public void Dispose()
    {
        SigningKey?.Dispose();
        AgreementKey?.Dispose();
        foreach (var key in _public.Values)
        {
            key.Dispose();
        }
    }

    private void Reload(bool force)
    {
        if (_directory is null)
        {
            return;
        }

        lock (_reloadLock)
        {
            var now = _time.GetTimestamp();
            if (!force && _lastReload != long.MinValue && _time.GetElapsedTime(_lastReload, now) < _reloadInterval)
            {
                return;
            }

            _lastReload = now;
            foreach (var file in Directory.EnumerateFiles(_directory, "*.pub.pem"))
            {
                var principal = Path.GetFileName(file)[..^".pub.pem".Length];
                if (_public.ContainsKey(principal))
                {
                    continue;
                }

                try
                {
                    var key = ECDsa.Create();
                    key.ImportFromPem(File.ReadAllText(file));
                    if (key.KeySize == 256)
                    {
                        _public[principal] = key;
                    }
                    else
                    {
                        key.Dispose();
                    }
                }
                catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
                {
                    // A malformed or half-written file: skipped, read again on the next reload.
                }
            }
        }
    }
}
