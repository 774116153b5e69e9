using Microsoft.Extensions.Options;
using Webinar.Contracts.JoinTokens;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Meetings;

/// <summary>Every minute, forgets tombstones and revocations older than their retention, so neither grows forever.</summary>
internal sealed class DirectoryJanitor : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly MeetingDirectory _directory;
    private readonly RevokedAttendees _revoked;
    private readonly SfuOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DirectoryJanitor> _logger;

    public DirectoryJanitor(MeetingDirectory directory, RevokedAttendees revoked, IOptions<SfuOptions> options, TimeProvider time, ILogger<DirectoryJanitor> logger)
    {
        _directory = directory;
        _revoked = revoked;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>One pruning pass; returns (tombstones, revocations) removed.</summary>
    public (int Tombstones, int Revocations) Prune()
    {
        var tombstones = _directory.PruneTombstones(_options.TombstoneRetention);
        // A token is accepted up to the verifier's clock skew past its expiry: its revocation outlives that too.
        var revocations = _revoked.Prune(_options.RevocationRetention + JoinTokenVerifier.ClockSkew);
        if (tombstones + revocations > 0)
        {
            Log.DirectoryPruned(_logger, tombstones, revocations);
        }

        return (tombstones, revocations);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Prune();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
