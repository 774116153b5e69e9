using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Tls;
using Webinar.Media.Dtls.OpenSsl;
using BcDtlsTransport = Org.BouncyCastle.Tls.DtlsTransport;

namespace Webinar.Media.Dtls;

/// <summary>
/// One DTLS-SRTP association (RFC 5764) over a datagram path that someone else owns (the node's UDP demux or a client
/// socket). Incoming DTLS datagrams go in through <see cref="OnDatagram"/>; outgoing ones leave through the
/// <see cref="IDatagramSender"/>. <see cref="HandshakeAsync"/> yields the SRTP master keys.
/// </summary>
/// <remarks>
/// Engines (<see cref="DtlsEngines.For"/>, the one rule): a server runs OpenSSL's DTLS as a state machine over memory
/// BIOs (<see cref="OpenSslDtlsServer"/>: short steps on one worker per core, no thread held while waiting for the peer)
/// wherever libssl.so.3 loads; a client, and a server where OpenSSL is missing or
/// <see cref="DtlsTransportOptions.ServerEngine"/> asks for it, runs BouncyCastle as described next.
/// Threading with BouncyCastle: the handshake runs its blocking protocol on a thread. A server handshake waits for the
/// ClientHello without one, then runs on one of the bounded <see cref="DtlsHandshakeWorkers.Server"/> threads (queued
/// when all are busy); a client handshake (our load generator and test client) gets a dedicated thread that exits when
/// it ends. Either way the thread is released when the handshake ends (success, failure, timeout, cancellation or
/// <see cref="Close"/>), and <see cref="DtlsTransportOptions.HandshakeTimeout"/> counts from <see cref="HandshakeAsync"/>,
/// time queued included. After success no thread is held:
/// datagrams that still arrive (a peer's retransmitted final flight, close_notify, alerts) are processed on the thread
/// pool, one batch at a time, so a lost final flight is retransmitted and <see cref="Closed"/> learns of close_notify.
/// <see cref="OnDatagram"/> may be called from any one thread at a time; it copies the bytes and never blocks.
/// </remarks>
public sealed class DtlsTransport : IDisposable
{
    private readonly DtlsCertificate _certificate;
    private readonly DtlsDatagramChannel _channel;
    private readonly DtlsHandshakeState _handshake;
    private readonly DtlsTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<DtlsError> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _associationGate = new();
    private readonly DrainWorkItem _drain;
    private readonly OpenSslDtlsServer? _openSsl;
    private long _dropped;
    private BcDtlsTransport? _association;
    private byte[]? _drainBuffer;
    private int _started;
    private long _startedAt;
    private int _draining;
    private volatile DtlsTransportState _state;

    public DtlsTransport(
        DtlsRole role,
        DtlsCertificate localCertificate,
        DtlsFingerprint expectedRemoteFingerprint,
        IDatagramSender sender,
        DtlsTransportOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(localCertificate);
        ArgumentNullException.ThrowIfNull(expectedRemoteFingerprint);
        ArgumentNullException.ThrowIfNull(sender);
        Role = role;
        _certificate = localCertificate;
        _options = options ?? DtlsTransportOptions.Default;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _handshake = new DtlsHandshakeState(expectedRemoteFingerprint, _options.SrtpProfiles);
        _channel = new DtlsDatagramChannel(sender, _options.ReceiveQueueCapacity, _options.MaxDatagramSize);
        _drain = new DrainWorkItem(this);
        Engine = DtlsEngines.For(role, _options);
        if (Engine == DtlsEngine.OpenSsl)
        {
            _openSsl = new OpenSslDtlsServer(localCertificate, _handshake, sender, _options, _timeProvider, _logger);
        }
    }

    public DtlsRole Role { get; }

    /// <summary>Logs, once at startup, which engine server transports made with <paramref name="options"/> run.</summary>
    public static void LogServerEngine(ILogger logger, DtlsTransportOptions? options = null)
    {
        var engine = DtlsEngines.For(DtlsRole.Server, options ?? DtlsTransportOptions.Default);
        DtlsLog.ServerEngine(logger, engine, engine == DtlsEngine.OpenSsl ? OpenSslNative.Version() : "BouncyCastle.Cryptography");
    }

    /// <summary>The engine running this transport: <see cref="DtlsEngine.OpenSsl"/> or <see cref="DtlsEngine.BouncyCastle"/>.</summary>
    public DtlsEngine Engine { get; }

    public DtlsTransportState State => _openSsl?.State ?? _state;

    /// <summary>Datagrams <see cref="OnDatagram"/> dropped: not well-formed DTLS records, too big, over the queue, or after the end.</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Completes once the association is over, with why: the handshake's error if it failed,
    /// <see cref="DtlsError.PeerClosed"/>, <see cref="DtlsError.PeerAlert"/> or <see cref="DtlsError.LocallyClosed"/>.
    /// Never faults.
    /// </summary>
    public Task<DtlsError> Closed => _openSsl?.Closed ?? _closed.Task;

    /// <summary>
    /// Hands over one datagram whose first byte is 20..63 (RFC 7983). Copies it; never blocks, never throws.
    /// Datagrams that are not well-formed DTLS 1.x records, or that overflow the bounded queue, are dropped.
    /// </summary>
    public void OnDatagram(ReadOnlySpan<byte> datagram)
    {
        if (_openSsl is not null)
        {
            if (!DtlsRecordHeader.IsWellFormedDatagram(datagram) || !_openSsl.TryEnqueue(datagram))
            {
                Interlocked.Increment(ref _dropped);
            }

            return;
        }

        var state = _state;
        if (state is DtlsTransportState.Closed or DtlsTransportState.Failed
            || !DtlsRecordHeader.IsWellFormedDatagram(datagram)
            || !_channel.TryEnqueue(datagram))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (state == DtlsTransportState.Connected)
        {
            ScheduleDrain();
        }
    }

    /// <summary>
    /// Runs the handshake in <see cref="Role"/> and returns the SRTP keys. Call once. Fails with
    /// <see cref="DtlsHandshakeException"/> (see its <see cref="DtlsHandshakeException.Error"/>) on a bad fingerprint,
    /// no common SRTP profile, a peer alert, protocol errors or <see cref="DtlsTransportOptions.HandshakeTimeout"/>;
    /// with <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public Task<DtlsSrtpKeys> HandshakeAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return Task.FromException<DtlsSrtpKeys>(new InvalidOperationException("The DTLS handshake was already started."));
        }

        return _openSsl is not null ? _openSsl.HandshakeAsync(cancellationToken) : RunBouncyCastleAsync(cancellationToken);
    }

    private async Task<DtlsSrtpKeys> RunBouncyCastleAsync(CancellationToken cancellationToken)
    {
        _state = DtlsTransportState.Connecting;
        _startedAt = Stopwatch.GetTimestamp();
        using var timeout = _timeProvider.CreateTimer(
            static self => ((DtlsTransport)self!)._channel.Abort(DtlsError.Timeout),
            this,
            _options.HandshakeTimeout,
            Timeout.InfiniteTimeSpan);
        using var cancellation = cancellationToken.UnsafeRegister(
            static self => ((DtlsTransport)self!)._channel.Abort(DtlsError.Cancelled),
            this);

        DtlsSrtpKeys? keys;
        if (Role == DtlsRole.Server)
        {
            // Until the ClientHello arrives there is nothing to compute: wait without a thread. The datagram's own
            // thread then queues the handshake for a worker (no thread-pool hop, so a busy pool cannot delay it).
            var work = _options.ServerWorkers.Prepare(static self => ((DtlsTransport)self!).RunHandshake(), this);
            _channel.WhenArrived(static work => ((DtlsHandshakeWorkers.Deferred<DtlsSrtpKeys?>)work!).Start(), work);
            keys = await work.Task.ConfigureAwait(false);
        }
        else if (_options.ClientWorkers is { } workers)
        {
            keys = await workers.Run(static self => ((DtlsTransport)self!).RunHandshake(), this).ConfigureAwait(false);
        }
        else
        {
            keys = await Task.Factory.StartNew(
                static self => ((DtlsTransport)self!).RunHandshake(),
                this,
                CancellationToken.None,
                TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
                TaskScheduler.Default).ConfigureAwait(false);
        }

        return keys ?? throw new OperationCanceledException("The DTLS handshake was cancelled.", cancellationToken);
    }

    /// <summary>Sends close_notify if connected, stops any handshake, and completes <see cref="Closed"/>. Idempotent.</summary>
    public void Close()
    {
        if (_openSsl is not null)
        {
            _openSsl.Close();
            return;
        }

        lock (_associationGate)
        {
            if (_association is not null)
            {
                try
                {
                    _association.Close();
                }
                catch (Exception)
                {
                    // The peer may already be gone; closing is best effort.
                }

                _association = null;
            }
        }

        _channel.Abort(DtlsError.LocallyClosed);
        End(DtlsTransportState.Closed, DtlsError.LocallyClosed);
    }

    public void Dispose() => Close();

    private DtlsSrtpKeys? RunHandshake()
    {
        try
        {
            BcDtlsTransport association;
            if (Role == DtlsRole.Server)
            {
                // No HelloVerifyRequest cookie: ICE has already proven the peer's address.
                var protocol = new DtlsServerProtocol { VerifyRequests = false };
                association = protocol.Accept(new DtlsSrtpServer(_certificate, _handshake), _channel);
            }
            else
            {
                association = new DtlsClientProtocol().Connect(new DtlsSrtpClient(_certificate, _handshake), _channel);
            }

            var keys = _handshake.Keys
                ?? throw new DtlsHandshakeException(DtlsError.ProtocolError, "The handshake completed without exporting SRTP keys.");

            lock (_associationGate)
            {
                var aborted = _channel.AbortReason;
                if (aborted != DtlsError.None)
                {
                    association.Close();
                    throw new DtlsChannelAbortedException(aborted);
                }

                _association = association;
                _state = DtlsTransportState.Connected;
            }

            DtlsMetrics.Succeeded(Role, _startedAt);
            DtlsLog.HandshakeCompleted(_logger, Role, (long)Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds, keys.ProtectionProfile);
            if (_channel.HasPending)
            {
                ScheduleDrain();
            }

            return keys;
        }
        catch (Exception exception)
        {
            var (error, message) = Classify(exception);
            if (Role == DtlsRole.Server && !_channel.SentAny && error is not (DtlsError.Timeout or DtlsError.Cancelled or DtlsError.LocallyClosed))
            {
                SendEarlyFatalAlert(exception);
            }

            _channel.Abort(error);
            End(DtlsTransportState.Failed, error);
            DtlsMetrics.Failed(Role, error);
            DtlsLog.HandshakeFailed(_logger, Role, error, message);
            if (error == DtlsError.Cancelled)
            {
                return null;
            }

            throw new DtlsHandshakeException(error, message, exception);
        }
    }

    /// <summary>
    /// BouncyCastle's record layer sends nothing before its ServerHello, so a handshake refused while reading the
    /// ClientHello (no common SRTP profile, no extended master secret, no common cipher suite) would leave the client
    /// waiting for its timeout. Tell it with an epoch-0 fatal alert, as RFC 5246 §7.2 asks.
    /// </summary>
    private void SendEarlyFatalAlert(Exception exception)
    {
        var description = _handshake.FailureAlert;
        for (var inner = exception; description == 0 && inner is not null; inner = inner.InnerException)
        {
            if (inner is TlsFatalAlert alert)
            {
                description = alert.AlertDescription;
            }
        }

        if (description == 0)
        {
            description = AlertDescription.handshake_failure;
        }

        Span<byte> record = stackalloc byte[DtlsRecordHeader.Size + 2];
        record.Clear();
        record[0] = DtlsRecordHeader.Alert;
        record[1] = 0xFE;
        record[2] = 0xFF;
        record[12] = 2;
        record[13] = (byte)AlertLevel.fatal;
        record[14] = (byte)description;
        try
        {
            _channel.Send(record);
        }
        catch (Exception)
        {
            // Best effort: the peer still has its own timeout.
        }
    }

    private (DtlsError Error, string Message) Classify(Exception exception)
    {
        var aborted = _channel.AbortReason;
        if (aborted == DtlsError.Timeout)
        {
            return (aborted, $"No DTLS handshake within {_options.HandshakeTimeout.TotalSeconds:0.#} s.");
        }

        if (aborted is DtlsError.Cancelled or DtlsError.LocallyClosed)
        {
            return (aborted, $"The DTLS handshake was stopped: {aborted}.");
        }

        if (_handshake.Failure != DtlsError.None)
        {
            return (_handshake.Failure, _handshake.FailureMessage ?? _handshake.Failure.ToString());
        }

        if (exception is DtlsHandshakeException own)
        {
            return (own.Error, own.Message);
        }

        if (_handshake.RemoteAlert >= 0 && _handshake.RemoteAlertFatal)
        {
            var description = (short)_handshake.RemoteAlert;
            return (DtlsError.PeerAlert, $"The peer sent fatal alert {AlertDescription.GetText(description)} ({description}).");
        }

        return exception is TlsFatalAlert alert
            ? (DtlsError.ProtocolError, $"DTLS protocol failure: {AlertDescription.GetText(alert.AlertDescription)}.")
            : (DtlsError.ProtocolError, $"DTLS protocol failure: {exception.GetType().Name}: {exception.Message}");
    }

    private void End(DtlsTransportState state, DtlsError reason)
    {
        _state = state;
        if (_closed.TrySetResult(reason) && _started != 0 && reason is not DtlsError.None)
        {
            DtlsLog.AssociationEnded(_logger, Role, reason);
        }
    }

    private void ScheduleDrain()
    {
        if (Interlocked.Exchange(ref _draining, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_drain, preferLocal: false);
        }
    }

    /// <summary>Feeds queued post-handshake datagrams through BouncyCastle: retransmissions, alerts, close_notify.</summary>
    private void Drain()
    {
        DtlsError ended = DtlsError.None;
        lock (_associationGate)
        {
            var association = _association;
            if (association is not null)
            {
                _drainBuffer ??= new byte[DtlsDatagramChannel.MaxDatagramSize];
                try
                {
                    while (_channel.HasPending && !_channel.ClosedByProtocol)
                    {
                        // Application data (no data channels here) is read and dropped. BouncyCastle treats a wait of
                        // 0 as "forever", so poll with 1 ms: the loop ends as soon as the queue is empty.
                        association.Receive(_drainBuffer, 0, _drainBuffer.Length, 1);
                    }
                }
                catch (Exception)
                {
                    ended = DtlsError.PeerAlert;
                }

                if (ended == DtlsError.None && _channel.ClosedByProtocol)
                {
                    ended = _handshake.RemoteAlertFatal ? DtlsError.PeerAlert : DtlsError.PeerClosed;
                }

                if (ended != DtlsError.None)
                {
                    _association = null;
                }
            }
        }

        if (ended != DtlsError.None)
        {
            _channel.Abort(ended);
            End(DtlsTransportState.Closed, ended);
            return;
        }

        Volatile.Write(ref _draining, 0);
        if (_channel.HasPending && _state == DtlsTransportState.Connected)
        {
            ScheduleDrain();
        }
    }

    private sealed class DrainWorkItem(DtlsTransport owner) : IThreadPoolWorkItem
    {
        public void Execute() => owner.Drain();
    }
}
