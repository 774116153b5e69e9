using Webinar.Contracts.JoinTokens;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Contracts.Turn;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Signaling;

namespace Webinar.Sfu.Sessions;

/// <summary>Where a session's frames go: the connection's outbound queue. Both methods never block and never throw.</summary>
internal interface ISessionOutput
{
    /// <summary>Queues a frame; a client that stops reading is closed as <c>slow-client</c>.</summary>
    void Send(byte[] frame);

    /// <summary>Queues a frame written only when its turn to be sent comes, so it can say the latest state.</summary>
    void SendDeferred(Func<byte[]> render);

    /// <summary>Queues <paramref name="finalFrame"/> (if any) and then a close with <paramref name="closeCode"/>. Idempotent.</summary>
    void Close(byte[]? finalFrame, int closeCode, string closeReason);
}

/// <summary>
/// One signalling connection's protocol state: join, offers, promote/demote, leave. Frames from the client are handled
/// one at a time by the connection's read loop; the bus and the media plane may end or demote it from other threads.
/// </summary>
internal sealed class Session : IPeerMediaListener
{
    private readonly ISessionOutput _output;
    private readonly SessionServices _services;
    private readonly SemaphoreSlim _mediaGate = new(1, 1);
    private readonly SemaphoreSlim _promotionGate = new(1, 1);
    private JoinTokenClaims? _claims;
    private IPeerMedia? _peer;
    private MediaKinds _promotedKinds;
    private string? _endReason;
    private int _disposed;
    private long _renegotiateCounts;
    private int _renegotiateQueued;
    private bool _preNegotiate;

    public Session(ISessionOutput output, SessionServices services)
    {
        _output = output;
        _services = services;
    }

    public Guid ConnectionId { get; } = Guid.NewGuid();

    public bool IsJoined => _claims is not null && Room is not null;

    public Guid AttendeeId => _claims?.AttendeeId ?? Guid.Empty;

    public string ExternalUserId => _claims?.ExternalUserId ?? string.Empty;

    public MediaKinds CanPublish { get; private set; }

    /// <summary>Spare receive slots per kind the client keeps when its join asked to pre-negotiate (in <c>joined</c>); else null.</summary>
    public int? SpareSlots => _preNegotiate ? Media.NegotiationSettings.SpareSlots(_services.Options) : null;

    /// <summary>The TURN servers the join token carries for this attendee (sent in <c>joined</c>).</summary>
    public IReadOnlyList<IceServer> IceServers => _claims?.IceServers ?? [];

    // Guarded by MeetingRooms' lock.
    public MeetingRoom? Room { get; set; }

    public PresenceMember? PromotedAs { get; set; }

    public MeetingRoom? PromotedInto { get; set; }

    /// <summary>
    /// The primary attendee this session was promoted as (into a primary on another node) until the relayed leave of that
    /// promotion arrives: presence about it until then is its own, relayed late, and never shown to it.
    /// </summary>
    public Guid? DemotedFrom { get; set; }

    /// <summary>True when <paramref name="attendeeId"/> is this session's attendee or the primary attendee it is promoted as.</summary>
    public bool IsSelf(Guid attendeeId) => attendeeId == AttendeeId || (PromotedAs is { } p && p.AttendeeId == attendeeId);

    public void Send(byte[] frame) => _output.Send(frame);

    /// <summary>Ends the session: queues <paramref name="finalFrame"/> and closes. The first reason given wins.</summary>
    public void End(byte[]? finalFrame, int closeCode, string reason)
    {
        Interlocked.CompareExchange(ref _endReason, reason, null);
        _output.Close(finalFrame, closeCode, reason);
    }

    /// <summary>
    /// Coalesced: while one <c>renegotiate</c> waits in the outbound queue, later requests only update the counts it
    /// will carry when it is sent, so streams that come and go quickly (300 toggles of one track) cost one frame.
    /// </summary>
    public void OnRenegotiationNeeded(int audio, int video)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        Volatile.Write(ref _renegotiateCounts, ((long)Math.Max(0, audio) << 32) | (uint)Math.Max(0, video));
        if (Interlocked.Exchange(ref _renegotiateQueued, 1) == 0)
        {
            _output.SendDeferred(RenderRenegotiate);
        }
    }

    private byte[] RenderRenegotiate()
    {
        // Cleared before the counts are read: a request racing with this sends one more frame, never loses its counts.
        Interlocked.Exchange(ref _renegotiateQueued, 0);
        var counts = Volatile.Read(ref _renegotiateCounts);
        return ServerFrames.Renegotiate((int)(counts >> 32), (int)(uint)counts);
    }

    public void OnSlotsChanged(IReadOnlyList<MediaSlot> slots)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Send(ServerFrames.Slots(slots));
        }
    }

    public void OnVideoPaused(string streamId, string reason)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Log.VideoPaused(_services.Logger, ConnectionId, streamId, reason);
            Send(ServerFrames.VideoPaused(streamId, reason));
        }
    }

    public void OnVideoResumed(string streamId)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Log.VideoResumed(_services.Logger, ConnectionId, streamId);
            Send(ServerFrames.VideoResumed(streamId));
        }
    }

    public void OnTransportClosed(string reason)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        if (reason == MediaCloseReasons.ConnectTimeout)
        {
            End(ServerFrames.Disconnected(DisconnectReasons.MediaConnectTimeout), CloseCodes.MediaConnectTimeout, DisconnectReasons.MediaConnectTimeout);
            return;
        }

        End(ServerFrames.Disconnected(DisconnectReasons.TransportClosed), CloseCodes.TransportClosed, DisconnectReasons.TransportClosed);
    }

    /// <summary>Handles one client frame. Returns false when the session must stop reading (it is closing).</summary>
    public async ValueTask<bool> HandleAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        if (!IsJoined)
        {
            if (frame.Type != ClientFrameType.Join)
            {
                RefuseJoin(ErrorCodes.NotJoined, "The first frame must be a join.", frame.IdJson, CloseCodes.BadRequest);
                return false;
            }

            return await JoinAsync(frame, cancellationToken).ConfigureAwait(false);
        }

        switch (frame.Type)
        {
            case ClientFrameType.Join:
                Error(ErrorCodes.AlreadyJoined, "This connection has already joined.", frame.IdJson);
                return true;
            case ClientFrameType.Offer:
                await OfferAsync(frame, cancellationToken).ConfigureAwait(false);
                return true;
            case ClientFrameType.Promote:
                await _promotionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await PromoteAsync(frame, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _promotionGate.Release();
                }

                return true;
            case ClientFrameType.Demote:
                await DemoteAsync(frame.IdJson, DemotionReasons.Requested, fromClient: true, cancellationToken).ConfigureAwait(false);
                return true;
            case ClientFrameType.StartArchive or ClientFrameType.StopArchive:
                await ArchiveAsync(frame, cancellationToken).ConfigureAwait(false);
                return true;
            case ClientFrameType.SetPreferredLayers:
                var outcome = await CallMediaAsync(
                    peer => peer.SetPreferredLayersAsync(frame.StreamId!, frame.SpatialLayer, frame.TemporalLayer, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
                if (outcome.Succeeded)
                {
                    Send(ServerFrames.PreferredLayers(frame.StreamId!, frame.SpatialLayer, frame.TemporalLayer, frame.IdJson));
                }
                else
                {
                    Error(RefusalCode(outcome.Refusal), outcome.Message ?? "The layers could not be set.", frame.IdJson);
                }

                return true;
            default:
                End(null, CloseCodes.Normal, DisconnectReasons.Left);
                return false;
        }
    }

    /// <summary>Reports a malformed frame: an error; before join the connection is also closed.</summary>
    public bool RejectFrame(string code, string message, string? idJson)
    {
        Log.BadFrame(_services.Logger, ConnectionId, message);
        if (!IsJoined)
        {
            RefuseJoin(code, message, idJson, CloseCodes.BadRequest);
            return false;
        }

        Error(code, message, idJson);
        return true;
    }

    /// <summary>The join timer fired: a connection that has not joined is closed.</summary>
    public void JoinTimedOut()
    {
        if (!IsJoined)
        {
            RefuseJoin(ErrorCodes.JoinTimeout, "No valid join within the time allowed.", null, CloseCodes.JoinTimeout);
        }
    }

    /// <summary>Demotes a promoted session from another thread (DeleteAttendee of the promotion's attendee, primary deleted).</summary>
    public void RequestDemotion(string reason) => _ = DemoteAsync(null, reason, fromClient: false, CancellationToken.None).AsTask();

    /// <summary>Runs once when the connection is gone: leaves the room, releases media, publishes AttendeeLeft.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var room = Room;
        if (room is null || _claims is null)
        {
            return;
        }

        var reason = Volatile.Read(ref _endReason) ?? DisconnectReasons.Closed;
        _services.Rooms.Leave(this);
        await _mediaGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_peer is not null)
            {
                await _peer.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            Log.MediaFailed(_services.Logger, e, ConnectionId);
        }
        finally
        {
            _mediaGate.Release();
            _services.Rooms.PeerClosed(room);
        }

        Log.Left(_services.Logger, ConnectionId, _claims.AttendeeId, reason);
        _services.Events.Publish(new AttendeeLeft(
            room.MeetingId, _claims.AttendeeId, _claims.ExternalUserId, _services.Options.EffectiveNodeId, ConnectionId, reason, _services.Time.GetUtcNow()));
    }

    private async ValueTask<bool> JoinAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        if (!TryVerify(frame.Token, frame.IdJson, out var claims, out var code, out var message))
        {
            RefuseJoin(code, message, frame.IdJson, CloseCodes.InvalidToken);
            return false;
        }

        // A placement this node missed (it restarted, or the event is late) is asked of the control plane.
        var placement = await _services.Directory.WaitForAsync(claims.MeetingId, _services.Options.PlacementWait, cancellationToken).ConfigureAwait(false)
            ?? (_services.Directory.IsDeleted(claims.MeetingId) ? null : await _services.Placements.ResolveAsync(claims.MeetingId, cancellationToken).ConfigureAwait(false));
        if (placement is null || placement.NodeId != _services.Options.EffectiveNodeId)
        {
            RefuseJoin(ErrorCodes.WrongMeetingNode, "The meeting is not hosted on this node.", frame.IdJson, CloseCodes.WrongMeetingNode);
            return false;
        }

        // Learning the placement may have taught the node this attendee's revocation.
        if (_services.Revoked.IsRevoked(claims.AttendeeId))
        {
            RefuseJoin(ErrorCodes.TokenRevoked, "The attendee was deleted; its token no longer works.", frame.IdJson, CloseCodes.InvalidToken);
            return false;
        }

        if (placement.PrimaryMeetingId != claims.PrimaryMeetingId)
        {
            RefuseJoin(ErrorCodes.InvalidToken, "The token's primary meeting does not match the meeting.", frame.IdJson, CloseCodes.InvalidToken);
            return false;
        }

        _claims = claims;
        _preNegotiate = frame.PreNegotiate;
        CanPublish = placement.IsReplica ? MediaKinds.None : SendKinds(claims.Capabilities);
        var result = _services.Rooms.Admit(this, placement, frame.IdJson, out var room, out var replaced);
        if (result != AdmitResult.Admitted || room is null)
        {
            _claims = null;
            var (refusal, text, close) = result switch
            {
                AdmitResult.MeetingFull => (ErrorCodes.MeetingFull, "The meeting has reached its connection limit.", CloseCodes.MeetingFull),
                AdmitResult.NodeFull => (ErrorCodes.NodeFull, "This media node is at its capacity; try again shortly.", CloseCodes.NodeFull),
                AdmitResult.AlreadyConnected => (ErrorCodes.AlreadyConnected, "This attendee is connected already, as a promoted speaker; demote it first.", CloseCodes.AlreadyConnected),
                _ => (ErrorCodes.WrongMeetingNode, "The meeting is not hosted on this node.", CloseCodes.WrongMeetingNode),
            };
            RefuseJoin(refusal, text, frame.IdJson, close);
            return false;
        }

        replaced?.End(ServerFrames.Disconnected(DisconnectReasons.Replaced), CloseCodes.Replaced, DisconnectReasons.Replaced);
        Log.Joined(_services.Logger, ConnectionId, room.MeetingId, claims.AttendeeId, room.IsReplica ? "replica" : "primary");
        _services.Events.Publish(new AttendeeJoined(
            room.MeetingId, claims.AttendeeId, claims.ExternalUserId, _services.Options.EffectiveNodeId, ConnectionId, _services.Time.GetUtcNow()));

        var peer = new MediaPeer(ConnectionId, room.MeetingId, claims.AttendeeId, claims.ExternalUserId, CanPublish) { PreNegotiated = _preNegotiate };
        await _mediaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _peer = room.Media.AddPeer(peer, this);
        }
        catch (Exception e)
        {
            Log.MediaFailed(_services.Logger, e, ConnectionId);
        }
        finally
        {
            _mediaGate.Release();
        }

        if (_services.Archives.RecordingOf(room.Placement.PrimaryMeetingId ?? room.MeetingId) is { } archiveId)
        {
            Send(ServerFrames.ArchiveStarted(archiveId, null));
        }

        // DeleteAttendee may have landed between the revocation check and admission.
        if (_services.Revoked.IsRevoked(claims.AttendeeId))
        {
            End(ServerFrames.Disconnected(DisconnectReasons.AttendeeDeleted), CloseCodes.AttendeeDeleted, DisconnectReasons.AttendeeDeleted);
            return false;
        }

        return true;
    }

    /// <summary>
    /// start-archive / stop-archive: a moderator's token only; the control plane decides and every attendee of the
    /// primary and its replicas then gets archive-started / archive-stopped.
    /// </summary>
    private async ValueTask ArchiveAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        if (_claims is not { IsModerator: true } claims || Room is not { } room)
        {
            Error(ErrorCodes.NotAllowed, "Only a moderator may start or stop the meeting's archive.", frame.IdJson);
            return;
        }

        var (code, message) = await _services.Archives.CommandAsync(
            room.Placement.PrimaryMeetingId ?? room.MeetingId, claims.AttendeeId, frame.Type == ClientFrameType.StartArchive, cancellationToken).ConfigureAwait(false);
        if (code is not null)
        {
            Error(code, message!, frame.IdJson);
        }
    }

    private async ValueTask OfferAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var allowed = OfferableSendKinds();
        var sends = OfferInspector.SendKinds(frame.Sdp!);
        if ((sends & ~allowed) != MediaKinds.None)
        {
            Error(ErrorCodes.NotAllowed, $"This attendee may not send {Describe(sends & ~allowed)}; offer those m-lines as recvonly or inactive.", frame.IdJson);
            return;
        }

        await _mediaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_peer is null)
            {
                Error(ErrorCodes.MediaUnavailable, "Media is not available for this connection.", frame.IdJson);
                return;
            }

            var answer = await _peer.AnswerAsync(frame.Sdp!, cancellationToken).ConfigureAwait(false);
            if (answer.Refusal != MediaRefusal.None || answer.Sdp is null)
            {
                Error(RefusalCode(answer.Refusal), answer.Message ?? "The offer was refused.", frame.IdJson);
                return;
            }

            Send(ServerFrames.Answer(answer.Sdp, answer.Slots, frame.IdJson));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.MediaFailed(_services.Logger, e, ConnectionId);
            Error(ErrorCodes.MediaUnavailable, "The offer could not be answered.", frame.IdJson);
        }
        finally
        {
            _mediaGate.Release();
        }
    }

    /// <summary>
    /// The kinds an offer may have send m-lines for: what the attendee (or its promotion) may publish; a pre-negotiating
    /// replica attendee may offer send slots of any kind, which carry nothing until a promotion allows their kind.
    /// </summary>
    private MediaKinds OfferableSendKinds() =>
        _preNegotiate && Room is { IsReplica: true } ? MediaKinds.Audio | MediaKinds.Video
        : PromotedAs is null ? CanPublish : _promotedKinds;

    private async ValueTask PromoteAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var room = Room!;
        if (!room.IsReplica)
        {
            Error(ErrorCodes.NotAllowed, "Only replica attendees can be promoted; a presenter of the primary cannot switch.", frame.IdJson);
            return;
        }

        if (PromotedAs is not null)
        {
            Error(ErrorCodes.NotAllowed, "This connection is already promoted; demote first.", frame.IdJson);
            return;
        }

        if (!TryVerify(frame.Token, frame.IdJson, out var claims, out var code, out var message))
        {
            Error(code, message, frame.IdJson);
            return;
        }

        if (claims.PrimaryMeetingId is not null || claims.MeetingId != room.Placement.PrimaryMeetingId)
        {
            Error(ErrorCodes.NotAllowed, "The promotion token must belong to an attendee of this replica's primary meeting.", frame.IdJson);
            return;
        }

        var kinds = SendKinds(claims.Capabilities);
        if (kinds == MediaKinds.None)
        {
            Error(ErrorCodes.NotAllowed, "The promotion token's attendee may not send audio or video.", frame.IdJson);
            return;
        }

        // A primary this node missed (created while the node was not yet healthy) is asked of the control plane, as joins do.
        if (_services.Directory.Find(claims.MeetingId) is null && !_services.Directory.IsDeleted(claims.MeetingId)
            && await _services.Placements.ResolveAsync(claims.MeetingId, cancellationToken).ConfigureAwait(false) is null
            && !_services.Directory.IsDeleted(claims.MeetingId))
        {
            // No answer (the control plane or the broker is slow or down): a retry may work, unlike a deleted primary.
            Error(ErrorCodes.MediaUnavailable, "The primary meeting's placement could not be learnt; try again shortly.", frame.IdJson);
            return;
        }

        var member = new PresenceMember(claims.AttendeeId, claims.ExternalUserId, ConnectionId);
        switch (_services.Rooms.ReservePromotion(this, claims.MeetingId, member))
        {
            case PromotionResult.MeetingFull:
                Error(ErrorCodes.MeetingFull, RefusalMessages.PrimaryFull, frame.IdJson);
                return;
            case PromotionResult.AlreadyConnected:
                Error(ErrorCodes.AlreadyConnected, RefusalMessages.PrimaryAttendeeConnected, frame.IdJson);
                return;
            case PromotionResult.MeetingGone:
                Error(ErrorCodes.NotAllowed, "The primary meeting is not known to this node.", frame.IdJson);
                return;
        }

        _promotedKinds = kinds;
        var admission = PromotionOutcome.Decided(MediaOutcome.Ok).Admission;
        var outcome = await CallMediaAsync(async p =>
        {
            var promoted = await p.PromoteAsync(new MediaPromotion(claims.MeetingId, claims.AttendeeId, claims.ExternalUserId, kinds), cancellationToken).ConfigureAwait(false);
            admission = promoted.Admission;
            return promoted.Outcome;
        }, cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            _services.Rooms.ReleasePromotion(this);
            Error(RefusalCode(outcome.Refusal), outcome.Message ?? "The promotion was refused.", frame.IdJson);
            return;
        }

        // DeleteAttendee of the promotion's attendee may have landed during the checks.
        if (_services.Revoked.IsRevoked(claims.AttendeeId))
        {
            await DemoteLockedAsync(null, DisconnectReasons.AttendeeDeleted, cancellationToken).ConfigureAwait(false);
            Error(ErrorCodes.TokenRevoked, "The promotion token's attendee was deleted.", frame.IdJson);
            return;
        }

        Log.Promoted(_services.Logger, ConnectionId, claims.AttendeeId, claims.MeetingId);
        Send(ServerFrames.Promoted(claims.MeetingId, claims.AttendeeId, claims.ExternalUserId, kinds, frame.IdJson));
        if (!admission.IsCompleted || !admission.Result.Succeeded)
        {
            _ = UndoIfRefusedAsync(admission, member);
        }
    }

    /// <summary>
    /// A promotion into a primary on another node was answered <c>promoted</c> before that node admitted it: a refusal
    /// (or no answer in time) undoes it exactly as a demotion, <c>demoted</c> with the refusal's reason, unless the
    /// connection was demoted (or promoted again) meanwhile. Runs after the promotion gate is released, so the
    /// <c>demoted</c> always follows the <c>promoted</c>.
    /// </summary>
    private async Task UndoIfRefusedAsync(Task<MediaOutcome> admission, PresenceMember promotion)
    {
        var outcome = await admission.ConfigureAwait(false);
        if (outcome.Succeeded)
        {
            return;
        }

        await _promotionGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!ReferenceEquals(PromotedAs, promotion) || Volatile.Read(ref _disposed) == 1)
            {
                return;
            }

            Log.PromotionRefused(_services.Logger, ConnectionId, promotion.AttendeeId, outcome.Refusal.ToString());
            await DemoteLockedAsync(null, DemotionReasons.Of(outcome.Refusal), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _promotionGate.Release();
        }
    }

    private async ValueTask DemoteAsync(string? idJson, string reason, bool fromClient, CancellationToken cancellationToken)
    {
        if (fromClient && Room is { IsReplica: false })
        {
            Error(ErrorCodes.NotAllowed, "A presenter connected to the primary cannot demote or switch to a replica.", idJson);
            return;
        }

        try
        {
            await _promotionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (PromotedAs is null)
            {
                if (fromClient)
                {
                    Error(ErrorCodes.NotAllowed, "This connection is not promoted.", idJson);
                }

                return;
            }

            await DemoteLockedAsync(idJson, reason, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _promotionGate.Release();
        }
    }

    /// <summary>
    /// Reverts a promotion in the order docs/signaling.md gives: the streams go (<c>stream-removed</c>), then the primary
    /// attendee leaves presence (<c>attendee-left</c>), then the client gets <c>demoted</c>. Neither of the first two
    /// reaches the client itself: it is still that attendee while they are announced. Holds the promotion gate.
    /// </summary>
    private async ValueTask DemoteLockedAsync(string? idJson, string reason, CancellationToken cancellationToken)
    {
        await CallMediaAsync(p => p.DemoteAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        _services.Rooms.ReleasePromotion(this);
        Log.Demoted(_services.Logger, ConnectionId, reason);
        if (Volatile.Read(ref _disposed) == 0)
        {
            Send(ServerFrames.Demoted(reason, idJson));
        }
    }

    private async ValueTask<MediaOutcome> CallMediaAsync(Func<IPeerMedia, ValueTask<MediaOutcome>> call, CancellationToken cancellationToken)
    {
        try
        {
            await _mediaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new MediaOutcome(MediaRefusal.Unavailable, "The connection is closing.");
        }

        try
        {
            if (_peer is null || Volatile.Read(ref _disposed) == 1)
            {
                return new MediaOutcome(MediaRefusal.Unavailable, "Media is not available for this connection.");
            }

            return await call(_peer).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.MediaFailed(_services.Logger, e, ConnectionId);
            return new MediaOutcome(MediaRefusal.Unavailable, "The media plane failed.");
        }
        finally
        {
            _mediaGate.Release();
        }
    }

    private bool TryVerify(string? token, string? idJson, out JoinTokenClaims claims, out string code, out string message)
    {
        var error = _services.Verifier.Verify(token, out var verified);
        if (error != JoinTokenError.None || verified is null)
        {
            Log.TokenRefused(_services.Logger, error);
            claims = null!;
            (code, message) = error == JoinTokenError.Expired
                ? (ErrorCodes.TokenExpired, "The join token has expired.")
                : (ErrorCodes.InvalidToken, $"The join token is not valid ({error}).");
            return false;
        }

        if (_services.Revoked.IsRevoked(verified.AttendeeId))
        {
            claims = null!;
            (code, message) = (ErrorCodes.TokenRevoked, "The attendee was deleted; its token no longer works.");
            return false;
        }

        claims = verified;
        code = message = string.Empty;
        return true;
    }

    private void RefuseJoin(string code, string message, string? idJson, int closeCode)
    {
        Log.JoinRefused(_services.Logger, ConnectionId, code);
        _output.Close(ServerFrames.Error(code, message, idJson), closeCode, code);
    }

    private void Error(string code, string message, string? idJson) => Send(ServerFrames.Error(code, message, idJson));

    private static MediaKinds SendKinds(AttendeeCapabilities c) =>
        (AttendeeCapabilities.CanSend(c.Audio) ? MediaKinds.Audio : MediaKinds.None)
        | (AttendeeCapabilities.CanSend(c.Video) || AttendeeCapabilities.CanSend(c.Content) ? MediaKinds.Video : MediaKinds.None);

    private static string RefusalCode(MediaRefusal refusal) => refusal switch
    {
        MediaRefusal.BadOffer => ErrorCodes.BadOffer,
        MediaRefusal.NotAllowed => ErrorCodes.NotAllowed,
        MediaRefusal.MeetingFull => ErrorCodes.MeetingFull,
        MediaRefusal.AlreadyConnected => ErrorCodes.AlreadyConnected,
        MediaRefusal.AttendeeDeleted => ErrorCodes.TokenRevoked,
        MediaRefusal.UnknownStream => ErrorCodes.UnknownStream,
        _ => ErrorCodes.MediaUnavailable,
    };

    private static string Describe(MediaKinds kinds) => kinds switch
    {
        MediaKinds.Audio => "audio",
        MediaKinds.Video => "video",
        _ => "audio or video",
    };
}
