using System.Collections.Concurrent;
using System.Net;
using MassTransit;
using Webinar.Contracts.Relay;
using Webinar.Contracts.Trust;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using SrtpProfile = Webinar.Media.Srtp.SrtpProfile;

namespace Webinar.Sfu.Relay;

/// <summary>
/// The relay links of this node, at most one per peer node, carrying every meeting between the two, and their set-up
/// over the bus: the replica's node asks (<see cref="EnsureAsync"/>, <c>OpenRelayLink</c>) with its media address and
/// the SRTP key it sends with, the primary's node accepts (<see cref="AcceptAsync"/>) with its own. If both ask at once
/// the smaller node id's request wins (<see cref="OwnRequestWins"/>), so both end with the same link. The set is
/// touched on the media loop only; the bus methods hop onto it.
/// </summary>
internal sealed class RelayLinks(MediaWorker node, string nodeId, string mediaHost, RelayKeySealer sealer, IRelayLinkListener listener, RelayOptions options, ILogger logger)
{
    public const SrtpProfile Profile = SrtpProfile.AeadAes128Gcm;

    private readonly ConcurrentDictionary<string, Guid> _opening = new(StringComparer.Ordinal);

    // Media-loop state.
    private readonly Dictionary<string, RelayLink> _links = new(StringComparer.Ordinal);

    private MediaLoop Loop => node.Loop;

    /// <summary>Both nodes asked each other at once: the request of the node with the smaller id wins.</summary>
    public static bool OwnRequestWins(string ownNodeId, string peerNodeId) => string.CompareOrdinal(ownNodeId, peerNodeId) < 0;

    /// <summary>The open link to <paramref name="peerNodeId"/>, or null. Loop thread.</summary>
    public RelayLink? Find(string peerNodeId) => _links.TryGetValue(peerNodeId, out var link) && !link.IsClosed ? link : null;

    /// <summary>Whether <paramref name="linkId"/> is the open link from <paramref name="peerNodeId"/>. Loop thread.</summary>
    public bool IsCurrent(string peerNodeId, Guid linkId, out RelayLink link) =>
        _links.TryGetValue(peerNodeId, out link!) && link.LinkId == linkId && !link.IsClosed;

    /// <summary>A link closed: it is forgotten unless a newer one replaced it already. Loop thread.</summary>
    public void Forget(RelayLink link)
    {
        if (_links.TryGetValue(link.PeerNodeId, out var current) && current == link)
        {
            _links.Remove(link.PeerNodeId);
        }
    }

    /// <summary>Closes every link <paramref name="used"/> says carries nothing any more. Loop thread.</summary>
    public void CloseUnused(Func<RelayLink, bool> used)
    {
        foreach (var link in _links.Values.ToArray())
        {
            if (!used(link))
            {
                link.Close("relay-unused");
            }
        }
    }

    /// <summary>Answers another node's <c>OpenRelayLink</c>. Bus thread.</summary>
    public async Task<RelayLinkOpened> AcceptAsync(OpenRelayLink request)
    {
        if (_opening.ContainsKey(request.FromNodeId) && OwnRequestWins(nodeId, request.FromNodeId))
        {
            return Refused(request.LinkId);
        }

        if (request.Keys.SrtpProfile != (ushort)Profile || !IPAddress.TryParse(request.MediaHost, out var host) || request.MediaPort is <= 0 or > 65535)
        {
            return Refused(request.LinkId);
        }

        if (!TryOpenKeys(request.FromNodeId, request.Keys, out var inbound))
        {
            return Refused(request.LinkId);
        }

        var keys = RelayKeySet.Generate(Profile);
        await Loop.InvokeAsync(() => Install(request.LinkId, request.FromNodeId, new IPEndPoint(host, request.MediaPort), inbound, keys)).ConfigureAwait(false);
        _opening.TryRemove(request.FromNodeId, out _);
        return new RelayLinkOpened(request.LinkId, true, nodeId, mediaHost, node.Port, sealer.Seal(request.FromNodeId, (ushort)Profile, keys.Key, keys.Salt));
    }

    /// <summary>The open link to <paramref name="peerNodeId"/>, asking for one when there is none; null when the peer did not agree. Any thread.</summary>
    public async Task<RelayLink?> EnsureAsync(IBus bus, string peerNodeId, CancellationToken cancellationToken)
    {
        var existing = await Loop.InvokeAsync(() => Find(peerNodeId)).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        var linkId = Guid.NewGuid();
        _opening[peerNodeId] = linkId;
        try
        {
            var keys = RelayKeySet.Generate(Profile);
            var client = bus.CreateRequestClient<OpenRelayLink>(MediaRelay.NodeQueue(peerNodeId), RequestTimeout.After(ms: (int)options.RequestTimeout.TotalMilliseconds));
            var response = await client.GetResponse<RelayLinkOpened>(
                new OpenRelayLink(linkId, nodeId, mediaHost, node.Port, sealer.Seal(peerNodeId, (ushort)Profile, keys.Key, keys.Salt)),
                cancellationToken).ConfigureAwait(false);
            var opened = response.Message;
            if (!opened.Accepted || opened.Keys is null || !IPAddress.TryParse(opened.MediaHost, out var host) || !TryOpenKeys(peerNodeId, opened.Keys, out var inbound))
            {
                return null;
            }

            if (!_opening.TryGetValue(peerNodeId, out var stillOurs) || stillOurs != linkId)
            {
                // The peer's own request arrived meanwhile and installed the link: use that one.
                return await Loop.InvokeAsync(() => _links.GetValueOrDefault(peerNodeId)).ConfigureAwait(false);
            }

            return await Loop.InvokeAsync(() => Install(linkId, peerNodeId, new IPEndPoint(host, opened.MediaPort), inbound, keys)).ConfigureAwait(false);
        }
        catch (RequestTimeoutException)
        {
            Log.RelayPeerUnreachable(logger, peerNodeId, Guid.Empty);
            return null;
        }
        finally
        {
            _opening.TryRemove(new KeyValuePair<string, Guid>(peerNodeId, linkId));
        }
    }

    /// <summary>The keys <paramref name="fromNodeId"/> sealed to this node for the link's profile, or false.</summary>
    private bool TryOpenKeys(string fromNodeId, RelayKeys sealedKeys, out RelayKeySet keys)
    {
        keys = null!;
        if (sealedKeys.SrtpProfile != (ushort)Profile
            || !sealer.TryOpen(fromNodeId, sealedKeys, Webinar.Media.Srtp.SrtpProfiles.MasterKeyLength(Profile), Webinar.Media.Srtp.SrtpProfiles.MasterSaltLength(Profile), out var key, out var salt))
        {
            return false;
        }

        keys = new RelayKeySet(key, salt);
        return true;
    }

    private RelayLinkOpened Refused(Guid linkId) => new(linkId, false, nodeId, mediaHost, node.Port, null);

    private RelayLink Install(Guid linkId, string peerNodeId, IPEndPoint peer, RelayKeySet inbound, RelayKeySet outbound)
    {
        if (_links.Remove(peerNodeId, out var old))
        {
            old.Close("relay-replaced");
        }

        var link = new RelayLink(node, linkId, peerNodeId, peer, Profile, inbound, outbound, listener, options);
        _links[peerNodeId] = link;
        node.Register(link, link.PeerAddress);
        Log.RelayLinkOpened(logger, peerNodeId, linkId, peer.ToString());
        return link;
    }
}
