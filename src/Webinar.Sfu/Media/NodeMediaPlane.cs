using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Relay;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// The node's media plane, what signalling sees (<see cref="IMediaPlane"/>): a router per meeting and a peer per
/// connection, on top of one <see cref="MediaWorker"/> (sockets, media loop, certificate, datagram routing). A replica
/// whose primary is on this node gets its primary's streams in process. It tells the inter-node relay, when the node
/// runs one, through <see cref="IRelayHooks"/>; the relay depends on the worker, not on this plane.
/// </summary>
internal sealed class NodeMediaPlane : IMediaPlane, IHostedService
{
    private readonly Dictionary<Guid, Router> _routers = [];
    private readonly string _nodeId;

    private readonly ILogger<NodeMediaPlane> _logger;

    /// <param name="relay">The inter-node relay; null when the node runs none (tests of one node).</param>
    public NodeMediaPlane(IOptions<SfuOptions> options, MediaWorker worker, ILoggerFactory loggers, IRelayHooks? relay = null)
    {
        _logger = loggers.CreateLogger<NodeMediaPlane>();
        _nodeId = options.Value.EffectiveNodeId;
        Node = worker;
        Relay = relay;
        Negotiation = NegotiationSettings.From(options.Value);
    }

    public MediaWorker Node { get; }

    /// <summary>Limits and timeouts of every connection's negotiation and transport.</summary>
    public NegotiationSettings Negotiation { get; }

    /// <summary>The inter-node relay, when the node runs one.</summary>
    public IRelayHooks? Relay { get; }

    public IMeetingMedia OpenMeeting(MeetingMediaPlacement placement, IMeetingMediaListener listener)
    {
        var meeting = new MeetingMedia(this, placement, listener);
        Node.Loop.Post(meeting.Open);
        return meeting;
    }

    /// <summary>The router of <paramref name="meetingId"/>, created on first use (a replica may open before its primary). Loop thread.</summary>
    internal Router GetOrCreateRouter(Guid meetingId, Guid? primaryMeetingId, string? primaryNodeId)
    {
        if (_routers.TryGetValue(meetingId, out var router))
        {
            return router;
        }

        Router? primary = null;
        if (primaryMeetingId is { } primaryId)
        {
            primary = primaryNodeId is null || string.Equals(primaryNodeId, _nodeId, StringComparison.Ordinal)
                ? GetOrCreateRouter(primaryId, null, null)
                : GetOrCreateRemotePrimary(primaryId, primaryNodeId);
        }

        router = new Router(meetingId, primary);
        _routers[meetingId] = router;
        return router;
    }

    /// <summary>The router of <paramref name="meetingId"/> when it is open on this node. Loop thread.</summary>
    internal Router? FindRouter(Guid meetingId) => _routers.GetValueOrDefault(meetingId);

    /// <summary>A primary on another node, as this node holds it: a proxy router the relay fills. Loop thread.</summary>
    private Router GetOrCreateRemotePrimary(Guid primaryMeetingId, string primaryNodeId)
    {
        if (_routers.TryGetValue(primaryMeetingId, out var proxy))
        {
            return proxy;
        }

        proxy = new Router(primaryMeetingId, null) { IsRemotePrimary = true };
        _routers[primaryMeetingId] = proxy;
        Relay?.RemotePrimaryOpened(proxy, primaryNodeId);
        return proxy;
    }

    /// <summary>Closes a meeting's router; a remote primary's proxy goes with its last replica here. Loop thread.</summary>
    internal void CloseRouter(Router router)
    {
        _routers.Remove(router.MeetingId);
        router.Close();
        Relay?.RouterClosed(router);
        if (router.Primary is { IsRemotePrimary: true } proxy && proxy.Replicas.Count == 0)
        {
            _routers.Remove(proxy.MeetingId);
            proxy.Close();
            Relay?.RouterClosed(proxy);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var candidates = string.Join(", ", Node.Candidates.All.Select(c => $"{c.Transport} {c.Address}:{c.Port}"));
        Log.MediaListening(_logger, candidates, $"{Node.RelayHost}:{Node.Port}");
        Node.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>One meeting's media on this node: its router, and the signalling listener its streams are announced to.</summary>
internal sealed class MeetingMedia : IMeetingMedia, IRouterObserver
{
    private readonly NodeMediaPlane _plane;
    private readonly MeetingMediaPlacement _placement;
    private readonly IMeetingMediaListener _listener;
    private Router? _router;
    private volatile bool _disposed;

    public MeetingMedia(NodeMediaPlane plane, MeetingMediaPlacement placement, IMeetingMediaListener listener)
    {
        _plane = plane;
        _placement = placement;
        _listener = listener;
    }

    /// <summary>Loop thread.</summary>
    public void Open() => EnsureRouter();

    private Router EnsureRouter()
    {
        if (_router is null)
        {
            _router = _plane.GetOrCreateRouter(_placement.MeetingId, _placement.PrimaryMeetingId, _placement.PrimaryNodeId);
            _router.AddObserver(this);
        }

        return _router;
    }

    public IPeerMedia AddPeer(MediaPeer peer, IPeerMediaListener listener)
    {
        var connection = new Lazy<PeerConnection>(() =>
        {
            var router = EnsureRouter();
            var created = new PeerConnection(_plane, router, peer, listener);
            router.Join(created);
            return created;
        });
        _plane.Node.Loop.Post(() => _ = connection.Value);
        return new DeferredPeer(_plane.Node.Loop, connection);
    }

    public void OnStreamAdded(Producer producer)
    {
        if (!_disposed)
        {
            _listener.OnStreamPublished(producer.ToStreamInfo());
        }
    }

    public void OnStreamRemoved(Producer producer)
    {
        if (!_disposed)
        {
            _listener.OnStreamUnpublished(producer.ToStreamInfo());
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _plane.Node.Loop.InvokeAsync(() =>
        {
            if (_router is not null)
            {
                _router.RemoveObserver(this);
                _plane.CloseRouter(_router);
            }

            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates the peer connection on the loop thread, and forwards every call to it (each does its media work on the
    /// loop). Once created (AddPeer posts its creation at once) it is reached directly: a hop through the loop costs up to
    /// one loop wait when no datagram wakes it, and a promotion's reply or an answer should not pay it twice.
    /// </summary>
    private sealed class DeferredPeer(MediaLoop loop, Lazy<PeerConnection> connection) : IPeerMedia
    {
        public async ValueTask<MediaAnswer> AnswerAsync(string offerSdp, CancellationToken cancellationToken) =>
            await (await ConnectionAsync().ConfigureAwait(false)).AnswerAsync(offerSdp, cancellationToken).ConfigureAwait(false);

        public async ValueTask<PromotionOutcome> PromoteAsync(MediaPromotion promotion, CancellationToken cancellationToken) =>
            await (await ConnectionAsync().ConfigureAwait(false)).PromoteAsync(promotion, cancellationToken).ConfigureAwait(false);

        public async ValueTask<MediaOutcome> DemoteAsync(CancellationToken cancellationToken) =>
            await (await ConnectionAsync().ConfigureAwait(false)).DemoteAsync(cancellationToken).ConfigureAwait(false);

        public async ValueTask<MediaOutcome> SetPreferredLayersAsync(string streamId, int spatialLayer, int? temporalLayer, CancellationToken cancellationToken) =>
            await (await ConnectionAsync().ConfigureAwait(false))
                .SetPreferredLayersAsync(streamId, spatialLayer, temporalLayer, cancellationToken).ConfigureAwait(false);

        public async ValueTask DisposeAsync() =>
            await (await ConnectionAsync().ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);

        // Lazy<T>'s default mode is thread-safe: a value created (on the loop) is read from any thread.
        private ValueTask<PeerConnection> ConnectionAsync() =>
            connection.IsValueCreated ? new(connection.Value) : new(loop.InvokeAsync(() => connection.Value));
    }
}

/// <summary>Hears which streams come and go in a router's meeting (its own and, for a replica, its primary's).</summary>
internal interface IRouterObserver
{
    void OnStreamAdded(Producer producer);

    void OnStreamRemoved(Producer producer);
}

internal static class MediaExtensions
{
    /// <summary>Registers the media worker, the media plane, its limits and the hosted service that starts its loop.</summary>
    public static IServiceCollection AddMedia(this IServiceCollection services)
    {
        services.AddOptions<MediaLimitsOptions>().BindConfiguration(MediaLimitsOptions.Section);
        services.TryAddSingleton(sp => MediaWorker.FromOptions(sp.GetRequiredService<IOptions<SfuOptions>>().Value,
            sp.GetRequiredService<IOptions<MediaLimitsOptions>>().Value, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<NodeMediaPlane>();
        services.TryAddSingleton<IMediaPlane>(sp => sp.GetRequiredService<NodeMediaPlane>());
        services.AddHostedService<MediaPlaneStarter>();
        return services;
    }

    /// <summary>Starts the media loop when the registered plane is the real one (tests may register another).</summary>
    private sealed class MediaPlaneStarter(IMediaPlane plane) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            plane is NodeMediaPlane media ? media.StartAsync(cancellationToken) : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
