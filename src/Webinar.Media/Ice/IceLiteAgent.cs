using System.Net;
using System.Text;
using Webinar.Media.Stun;

namespace Webinar.Media.Ice;

/// <summary>What <see cref="IceLiteAgent.ProcessRequest"/> did with a datagram.</summary>
public enum IceLiteResult
{
    /// <summary>Not a well-formed ICE binding request (or the response buffer was too small): send nothing.</summary>
    Dropped = 0,

    /// <summary>An error response (400, 401 or 487) was written: send it back to the source.</summary>
    Rejected,

    /// <summary>A success response was written: send it back to the source.</summary>
    Answered,

    /// <summary>A success response was written and the source became the selected endpoint (first or newly nominated).</summary>
    AnsweredAndSelected,
}

/// <summary>
/// The ICE-lite server role (RFC 8445 §2.5, §7.3) for one peer connection: it answers connectivity checks whose
/// USERNAME is "localUfrag:remoteUfrag" and whose MESSAGE-INTEGRITY verifies with the local password, selects the
/// remote endpoint on the first valid check and moves it to a newer one the controlling peer nominates with
/// USE-CANDIDATE, and tracks consent freshness (RFC 7675): consent lapses 30 s after the last valid check from the
/// selected endpoint. <see cref="ProcessRequest"/> runs on one receive thread at a time and allocates only when the
/// selected endpoint changes; <see cref="HasConsent(DateTimeOffset)"/> and <see cref="SelectedEndpoint"/> may be read
/// from any thread.
/// </summary>
public sealed class IceLiteAgent
{
    /// <summary>How long consent lasts without a valid check (RFC 7675 §5.1).</summary>
    public static readonly TimeSpan ConsentTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Room a response needs: header, XOR-MAPPED-ADDRESS (IPv6), MESSAGE-INTEGRITY, FINGERPRINT.</summary>
    public const int MaxResponseLength = 20 + 24 + 24 + 8;

    private readonly TimeProvider _timeProvider;
    private readonly byte[] _localUfrag;
    private readonly byte[] _localPassword;
    private byte[] _remoteUfrag = [];
    private volatile SocketAddress? _selected;
    private long _lastValidCheckTicks = long.MinValue;

    public IceLiteAgent(IceCredentials localCredentials, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(localCredentials);
        ArgumentNullException.ThrowIfNull(timeProvider);
        LocalCredentials = localCredentials;
        _timeProvider = timeProvider;
        _localUfrag = Encoding.UTF8.GetBytes(localCredentials.Ufrag);
        _localPassword = Encoding.UTF8.GetBytes(localCredentials.Password);
    }

    public IceCredentials LocalCredentials { get; }

    /// <summary>
    /// The peer's ufrag from its SDP. When set, the part of USERNAME after the colon must equal it;
    /// when null, any remote ufrag is accepted (the password still authenticates the check).
    /// </summary>
    public string? RemoteUfrag
    {
        get => _remoteUfrag.Length == 0 ? null : Encoding.UTF8.GetString(_remoteUfrag);
        set => _remoteUfrag = string.IsNullOrEmpty(value) ? [] : Encoding.UTF8.GetBytes(value);
    }

    /// <summary>The endpoint media goes to, or null before the first valid check. Do not mutate it.</summary>
    public SocketAddress? SelectedEndpoint => _selected;

    /// <summary>True while the selected endpoint sent a valid check within the last <see cref="ConsentTimeout"/>.</summary>
    public bool HasConsent(DateTimeOffset now)
    {
        long last = Interlocked.Read(ref _lastValidCheckTicks);
        return last != long.MinValue && now.UtcTicks - last < ConsentTimeout.Ticks;
    }

    public bool HasConsent() => HasConsent(_timeProvider.GetUtcNow());

    /// <summary>True if <paramref name="source"/> is the selected endpoint (allocation-free).</summary>
    public bool IsSelected(SocketAddress source) => _selected is { } selected && selected.Equals(source);

    /// <summary>
    /// Handles one STUN datagram from <paramref name="source"/>. When the result is <see cref="IceLiteResult.Answered"/>,
    /// <see cref="IceLiteResult.AnsweredAndSelected"/> or <see cref="IceLiteResult.Rejected"/>,
    /// <c>response[..responseLength]</c> must be sent back to <paramref name="source"/>.
    /// </summary>
    public IceLiteResult ProcessRequest(
        ReadOnlySpan<byte> datagram, SocketAddress source, Span<byte> response, out int responseLength)
    {
        responseLength = 0;
        if (!StunMessage.TryParse(datagram, out StunMessage request)
            || request.Class != StunClass.Request
            || request.Method != StunMethod.Binding
            || !request.VerifyFingerprint())
        {
            return IceLiteResult.Dropped;
        }

        if (!request.TryGetUsername(out ReadOnlySpan<byte> username) || !request.HasMessageIntegrity)
        {
            return Reject(request, StunErrorCode.BadRequest, "Bad Request"u8, signed: false, response, out responseLength);
        }

        if (!IsOurUsername(username) || !request.VerifyMessageIntegrity(_localPassword))
        {
            return Reject(request, StunErrorCode.Unauthenticated, "Unauthenticated"u8, signed: false, response,
                out responseLength);
        }

        if (request.HasAttribute(StunAttributeType.IceControlled))
        {
            // Both sides claim the controlled role; a lite agent can never switch, so it keeps its role (§7.3.1.1).
            return Reject(request, StunErrorCode.RoleConflict, "Role Conflict"u8, signed: true, response,
                out responseLength);
        }

        var writer = new StunMessageWriter(response, StunClass.SuccessResponse, StunMethod.Binding, request.TransactionId);
        writer.AddXorMappedAddress(source);
        writer.AddMessageIntegrity(_localPassword);
        writer.AddFingerprint();
        if (!writer.TryComplete(out responseLength))
        {
            return IceLiteResult.Dropped;
        }

        long now = _timeProvider.GetUtcNow().UtcTicks;
        SocketAddress? selected = _selected;
        if (selected is not null && selected.Equals(source))
        {
            Interlocked.Exchange(ref _lastValidCheckTicks, now);
            return IceLiteResult.Answered;
        }

        if (selected is null || request.HasAttribute(StunAttributeType.UseCandidate))
        {
            _selected = Copy(source);
            Interlocked.Exchange(ref _lastValidCheckTicks, now);
            return IceLiteResult.AnsweredAndSelected;
        }

        // A valid check on another pair: answered so the peer can validate it, but it neither moves nor refreshes.
        return IceLiteResult.Answered;
    }

    private bool IsOurUsername(ReadOnlySpan<byte> username)
    {
        // USERNAME = local ufrag ":" remote ufrag (RFC 8445 §7.2.2, from the sender's point of view reversed).
        if (username.Length <= _localUfrag.Length || username[_localUfrag.Length] != (byte)':'
            || !username.StartsWith(_localUfrag))
        {
            return false;
        }

        ReadOnlySpan<byte> remote = username.Slice(_localUfrag.Length + 1);
        return _remoteUfrag.Length == 0 ? remote.Length > 0 : remote.SequenceEqual(_remoteUfrag);
    }

    private IceLiteResult Reject(
        StunMessage request, int code, ReadOnlySpan<byte> reason, bool signed, Span<byte> response, out int responseLength)
    {
        var writer = new StunMessageWriter(response, StunClass.ErrorResponse, StunMethod.Binding, request.TransactionId);
        writer.AddErrorCode(code, reason);
        if (signed)
        {
            writer.AddMessageIntegrity(_localPassword);
        }

        writer.AddFingerprint();
        return writer.TryComplete(out responseLength) ? IceLiteResult.Rejected : IceLiteResult.Dropped;
    }

    private static SocketAddress Copy(SocketAddress source)
    {
        var copy = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span.Slice(0, source.Size).CopyTo(copy.Buffer.Span);
        return copy;
    }
}
