using System.Net;
using System.Security.Cryptography;
using System.Text;
using Webinar.Media.Stun;

namespace Webinar.Media.Ice;

/// <summary>What <see cref="IceControllingClient.ProcessResponse"/> made of a datagram.</summary>
public enum IceCheckResult
{
    /// <summary>Not a response to one of our outstanding checks, or failed integrity: ignore it.</summary>
    Ignored = 0,

    /// <summary>A check succeeded: the path works and consent is refreshed.</summary>
    Succeeded,

    /// <summary>The peer answered a check with an error (see <see cref="IceControllingClient.LastErrorCode"/>).</summary>
    Failed,
}

/// <summary>
/// The controlling full-agent side of one candidate pair (RFC 8445 §7.2), used by our C# client and by node-to-node
/// relay links against an <see cref="IceLiteAgent"/>: it writes binding requests (USERNAME remote:local, PRIORITY,
/// ICE-CONTROLLING with a random tie-breaker, USE-CANDIDATE until nominated, MESSAGE-INTEGRITY with the remote
/// password, FINGERPRINT), matches responses by transaction id, and keeps sending consent checks (RFC 7675) every
/// 4–6 s once connected. Consent lapses 30 s after the last successful check. One thread at a time.
/// </summary>
public sealed class IceControllingClient
{
    /// <summary>PRIORITY of a peer-reflexive host-type candidate, component 1 (RFC 8445 §5.1.2).</summary>
    public const uint DefaultPriority = (110u << 24) | (65535u << 8) | 255u;

    /// <summary>Pace of checks until the first success (RFC 8445 Ta is 50 ms; one pair needs far fewer).</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Mean interval between consent checks (RFC 7675 §5.1: randomised to 0.8–1.2 of 5 s).</summary>
    public static readonly TimeSpan ConsentInterval = TimeSpan.FromSeconds(5);

    private const int MaxOutstanding = 8;
    private const int TransactionIdLength = 12;

    private readonly TimeProvider _timeProvider;
    private readonly byte[] _username;
    private readonly byte[] _remotePassword;
    private readonly uint _priority;
    private readonly byte[] _outstanding = new byte[MaxOutstanding * TransactionIdLength];
    private readonly bool[] _outstandingNominates = new bool[MaxOutstanding];
    private readonly bool[] _outstandingUsed = new bool[MaxOutstanding];
    private int _nextSlot;
    private long _nextCheckTicks = long.MinValue;
    private long _lastSuccessTicks = long.MinValue;

    public IceControllingClient(
        IceCredentials localCredentials,
        string remoteUfrag,
        string remotePassword,
        TimeProvider timeProvider,
        uint priority = DefaultPriority)
    {
        ArgumentNullException.ThrowIfNull(localCredentials);
        ArgumentException.ThrowIfNullOrEmpty(remoteUfrag);
        ArgumentException.ThrowIfNullOrEmpty(remotePassword);
        ArgumentNullException.ThrowIfNull(timeProvider);
        LocalCredentials = localCredentials;
        _timeProvider = timeProvider;
        _username = Encoding.UTF8.GetBytes(remoteUfrag + ":" + localCredentials.Ufrag);
        _remotePassword = Encoding.UTF8.GetBytes(remotePassword);
        _priority = priority;
        TieBreaker = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    }

    public IceCredentials LocalCredentials { get; }

    /// <summary>The ICE-CONTROLLING tie-breaker sent with every check.</summary>
    public ulong TieBreaker { get; }

    /// <summary>True once any check succeeded.</summary>
    public bool IsConnected => _lastSuccessTicks != long.MinValue;

    /// <summary>True once a check carrying USE-CANDIDATE succeeded: the pair is nominated.</summary>
    public bool IsNominated { get; private set; }

    /// <summary>Our address as the peer saw it (XOR-MAPPED-ADDRESS of the last success).</summary>
    public IPEndPoint? MappedAddress { get; private set; }

    /// <summary>ERROR-CODE of the last error response, 0 if none.</summary>
    public int LastErrorCode { get; private set; }

    /// <summary>True while a check succeeded within the last 30 s (RFC 7675 §5.1).</summary>
    public bool HasConsent(DateTimeOffset now) =>
        _lastSuccessTicks != long.MinValue && now.UtcTicks - _lastSuccessTicks < IceLiteAgent.ConsentTimeout.Ticks;

    public bool HasConsent() => HasConsent(_timeProvider.GetUtcNow());

    /// <summary>
    /// Call on every timer tick (e.g. every 50 ms): when a check is due — every <see cref="CheckInterval"/> until
    /// nominated, then a consent check every 4–6 s — writes it into <paramref name="buffer"/> and returns true.
    /// </summary>
    public bool TryWriteDueCheck(Span<byte> buffer, out int length)
    {
        length = 0;
        long now = _timeProvider.GetUtcNow().UtcTicks;
        if (_nextCheckTicks != long.MinValue && now < _nextCheckTicks)
        {
            return false;
        }

        length = WriteBindingRequest(buffer, nominate: !IsNominated);
        if (length == 0)
        {
            return false;
        }

        long interval = IsNominated
            ? (long)(ConsentInterval.Ticks * (0.8 + (0.4 * Random.Shared.NextDouble())))
            : CheckInterval.Ticks;
        _nextCheckTicks = now + interval;
        return true;
    }

    /// <summary>
    /// Writes one binding request now and remembers its transaction id. Returns its length, or 0 when
    /// <paramref name="buffer"/> is too small.
    /// </summary>
    public int WriteBindingRequest(Span<byte> buffer, bool nominate)
    {
        Span<byte> transactionId = stackalloc byte[TransactionIdLength];
        RandomNumberGenerator.Fill(transactionId);
        var writer = new StunMessageWriter(buffer, StunClass.Request, StunMethod.Binding, transactionId);
        writer.AddUsername(_username);
        writer.AddPriority(_priority);
        writer.AddIceControlling(TieBreaker);
        if (nominate)
        {
            writer.AddUseCandidate();
        }

        writer.AddMessageIntegrity(_remotePassword);
        writer.AddFingerprint();
        if (!writer.TryComplete(out int length))
        {
            return 0;
        }

        int slot = _nextSlot;
        _nextSlot = (slot + 1) % MaxOutstanding;
        transactionId.CopyTo(_outstanding.AsSpan(slot * TransactionIdLength, TransactionIdLength));
        _outstandingNominates[slot] = nominate;
        _outstandingUsed[slot] = true;
        return length;
    }

    /// <summary>Handles a STUN datagram that may answer one of our checks.</summary>
    public IceCheckResult ProcessResponse(ReadOnlySpan<byte> datagram)
    {
        if (!StunMessage.TryParse(datagram, out StunMessage response)
            || response.Method != StunMethod.Binding
            || response.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse)
            || !response.VerifyFingerprint())
        {
            return IceCheckResult.Ignored;
        }

        int slot = FindOutstanding(response.TransactionId);
        if (slot < 0)
        {
            return IceCheckResult.Ignored;
        }

        if (response.Class == StunClass.ErrorResponse)
        {
            // 400 and 401 answers carry no MESSAGE-INTEGRITY; a forged one can at worst report a failure.
            if (response.HasMessageIntegrity && !response.VerifyMessageIntegrity(_remotePassword))
            {
                return IceCheckResult.Ignored;
            }

            _outstandingUsed[slot] = false;
            LastErrorCode = response.TryGetErrorCode(out int code, out _) ? code : 0;
            return IceCheckResult.Failed;
        }

        if (!response.VerifyMessageIntegrity(_remotePassword))
        {
            return IceCheckResult.Ignored;
        }

        _outstandingUsed[slot] = false;
        _lastSuccessTicks = _timeProvider.GetUtcNow().UtcTicks;
        LastErrorCode = 0;
        if (_outstandingNominates[slot] && !IsNominated)
        {
            IsNominated = true;
            _nextCheckTicks = _lastSuccessTicks + ConsentInterval.Ticks;
        }

        if (response.TryGetXorMappedAddress(out IPEndPoint? mapped))
        {
            MappedAddress = mapped;
        }

        return IceCheckResult.Succeeded;
    }

    private int FindOutstanding(ReadOnlySpan<byte> transactionId)
    {
        for (int slot = 0; slot < MaxOutstanding; slot++)
        {
            if (_outstandingUsed[slot]
                && transactionId.SequenceEqual(_outstanding.AsSpan(slot * TransactionIdLength, TransactionIdLength)))
            {
                return slot;
            }
        }

        return -1;
    }
}
