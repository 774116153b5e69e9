using Microsoft.Extensions.Options;
using Webinar.Contracts.JoinTokens;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Meetings;

/// <summary>
/// Verifies join tokens with the public keys of <see cref="SfuOptions.JoinTokenPublicKeyFile"/>, reloading the file when
/// it changes: a key rotation (add the new public key, switch the control plane's private key, later drop the
/// old one) needs no node restart. The file's write time is looked at when a token names a key the node does not have
/// (at most once per <see cref="SfuOptions.JoinTokenKeyReloadInterval"/>) and at least that often otherwise. A file that
/// cannot be read or holds no key keeps the keys already loaded. Thread-safe; the current verifier is swapped whole.
/// </summary>
internal sealed class JoinTokenKeyFile
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<JoinTokenKeyFile> _logger;
    private readonly object _reloadGate = new();
    private volatile JoinTokenVerifier _verifier;
    private DateTime _loadedWriteTime;
    private DateTimeOffset _checkedAt;

    public JoinTokenKeyFile(IOptions<SfuOptions> options, TimeProvider time, ILogger<JoinTokenKeyFile> logger)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.JoinTokenPublicKeyFile))
        {
            throw new InvalidOperationException(
                "No join token public key: set WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE (or Sfu:JoinTokenPublicKeyFile) to a PEM file.");
        }

        _path = o.JoinTokenPublicKeyFile;
        _time = time;
        _interval = o.JoinTokenKeyReloadInterval;
        _logger = logger;
        _loadedWriteTime = File.GetLastWriteTimeUtc(_path);
        _verifier = JoinTokenVerifier.FromPem(File.ReadAllText(_path), time);
        _checkedAt = time.GetUtcNow();
    }

    public JoinTokenError Verify(string? token, out JoinTokenClaims? claims)
    {
        var error = _verifier.Verify(token, out claims);
        var due = _time.GetUtcNow() - _checkedAt >= _interval;
        if ((error == JoinTokenError.UnknownKey || due) && ReloadIfChanged())
        {
            error = _verifier.Verify(token, out claims);
        }

        return error;
    }

    /// <summary>Reads the file again when its write time changed since the last load; true when new keys were loaded.</summary>
    public bool ReloadIfChanged(bool force = false)
    {
        lock (_reloadGate)
        {
            var now = _time.GetUtcNow();
            if (!force && now - _checkedAt < _interval)
            {
                return false;
            }

            _checkedAt = now;
            try
            {
                var writeTime = File.GetLastWriteTimeUtc(_path);
                if (writeTime == _loadedWriteTime)
                {
                    return false;
                }

                _verifier = JoinTokenVerifier.FromPem(File.ReadAllText(_path), _time);
                _loadedWriteTime = writeTime;
                Log.JoinTokenKeysReloaded(_logger, _path);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                Log.JoinTokenKeysReloadFailed(_logger, _path, e.Message);
                return false;
            }
        }
    }
}
