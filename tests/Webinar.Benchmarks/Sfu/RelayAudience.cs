using Webinar.Connector.Client;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// The two subscribers of the relay runs: one in the primary, one in its replica on another node, each with a
/// <see cref="LatencyRecorder"/>, joined and waited for until stamped media (tag 1) has crossed the relay.
/// </summary>
internal sealed class RelayAudience
{
    private RelayAudience(LatencyRecorder atPrimary, LatencyRecorder atReplica, SfuPeer primary, SfuPeer replica)
    {
        AtPrimary = atPrimary;
        AtReplica = atReplica;
        Primary = primary;
        Replica = replica;
    }

    public LatencyRecorder AtPrimary { get; }

    public LatencyRecorder AtReplica { get; }

    public SfuPeer Primary { get; }

    public SfuPeer Replica { get; }

    /// <summary>Joins both (each added to <paramref name="peers"/> for disposal) and waits for the relay to carry media.</summary>
    public static async Task<RelayAudience> JoinAsync(
        (Uri Url, string Token, Func<string, string>? Rewrite) primary, (Uri Url, string Token, Func<string, string>? Rewrite) replica,
        WebRtcClientOptions options, List<SfuPeer> peers)
    {
        var atPrimary = new LatencyRecorder();
        var atReplica = new LatencyRecorder();
        var primaryPeer = await SfuPeer.JoinAsync(primary.Url, primary.Token, options, publish: false, rewriteAnswer: primary.Rewrite);
        peers.Add(primaryPeer);
        atPrimary.Attach(primaryPeer.Client);
        var replicaPeer = await SfuPeer.JoinAsync(replica.Url, replica.Token, options, publish: false, rewriteAnswer: replica.Rewrite);
        peers.Add(replicaPeer);
        atReplica.Attach(replicaPeer.Client);
        await primaryPeer.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
        await replicaPeer.Client.ConnectedAsync(TimeSpan.FromSeconds(15));
        if (await atReplica.FirstArrivalAsync(1, TimeSpan.FromSeconds(20)) is null)
        {
            throw new TimeoutException("No stamped packet reached the replica subscriber within 20 s (the relay did not form).");
        }

        return new RelayAudience(atPrimary, atReplica, primaryPeer, replicaPeer);
    }
}
