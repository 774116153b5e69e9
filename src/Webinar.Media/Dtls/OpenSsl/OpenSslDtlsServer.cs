using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Tls;

namespace Webinar.Media.Dtls.OpenSsl;

/// <summary>
/// The server side of one DTLS-SRTP association on OpenSSL, as a state machine over memory BIOs (what Janus and
/// mediasoup do): each received datagram is written into the read BIO and SSL_do_handshake (or, once connected,
/// SSL_read) runs until OpenSSL wants more input; whatever it wrote into the write BIO then leaves as datagrams of at
/// most <see cref="DtlsTransportOptions.MaxDatagramSize"/>, split only between records. Retransmission is OpenSSL's
/// own timer (DTLSv1_get_timeout / DTLSv1_handle_timeout) armed on <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Threading: every OpenSSL call of an association runs in <see cref="Execute"/>, which at most one worker of
/// <see cref="DtlsTransportOptions.OpenSslWorkers"/> runs at a time (the <c>_scheduled</c> flag), as a short step:
/// it processes what is queued (datagrams, a due timer, the end) and returns, never waiting for the peer. The receive
/// thread only copies datagrams into a bounded queue. The outcome (keys, failure, end) is decided under
/// <c>_gate</c>, first one wins; native resources are freed by the worker afterwards.
/// </remarks>
internal sealed unsafe class OpenSslDtlsServer : DtlsHandshakeWorkers.WorkItem
{
    [ThreadStatic]
    private static OpenSslDtlsServer? t_current;

    private static ReadOnlySpan<byte> ExporterLabel => "EXTRACTOR-dtls_srtp"u8;

    private readonly OpenSslContext _context;
    private readonly DtlsHandshakeState _handshake;
    private readonly DtlsTransportOptions _options;
    private readonly IDatagramSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _inbox = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource<DtlsSrtpKeys> _keys = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<DtlsError> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inboxCount;
    private int _scheduled;
    private int _timerDue;
    private int _started;
    private volatile bool _running;
    private volatile DtlsTransportState _state;
    private volatile DtlsError _ended;
    private CancellationToken _cancellationToken;
    private long _startedAt;

    // Owned by the worker running Execute.
    private SafeSslHandle? _ssl;
    private IntPtr _readBio;
    private IntPtr _writeBio;
    private bool _connected;
    private bool _released;
    private byte[]? _output;
    private byte[]? _discard;
    private ITimer? _retransmission;
    private ITimer? _timeout;
    private CancellationTokenRegistration _cancellation;

    public OpenSslDtlsServer(
        DtlsCertificate certificate, DtlsHandshakeState handshake, IDatagramSender sender, DtlsTransportOptions options, TimeProvider time, ILogger logger)
    {
        _context = OpenSslContext.For(certificate);
        _handshake = handshake;
        _sender = sender;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The association whose step runs on this thread (OpenSSL's callbacks find their handshake here).</summary>
    public static OpenSslDtlsServer? Current => t_current;

    public DtlsTransportState State => _state;

    public Task<DtlsError> Closed => _closed.Task;

    /// <summary>Copies a well-formed datagram into the queue and schedules a step. False when it was dropped.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> datagram)
    {
        if (_ended != DtlsError.None || datagram.Length > DtlsDatagramChannel.MaxDatagramSize)
        {
            return false;
        }

        if (Interlocked.Increment(ref _inboxCount) > _options.ReceiveQueueCapacity)
        {
            Interlocked.Decrement(ref _inboxCount);
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        _inbox.Enqueue((buffer, datagram.Length));
        if (_running)
        {
            Schedule();
        }

        return true;
    }

    /// <summary>Starts the handshake (the caller guarantees once): arms the timeout and processes what already arrived.</summary>
    public Task<DtlsSrtpKeys> HandshakeAsync(CancellationToken cancellationToken)
    {
        _startedAt = Stopwatch.GetTimestamp();
        _cancellationToken = cancellationToken;
        Volatile.Write(ref _started, 1);
        lock (_gate)
        {
            if (_ended == DtlsError.None)
            {
                _state = DtlsTransportState.Connecting;
            }
        }

        if (_ended == DtlsError.None)
        {
            _timeout = _time.CreateTimer(
                static self => ((OpenSslDtlsServer)self!).Terminate(DtlsError.Timeout, null),
                this,
                _options.HandshakeTimeout,
                Timeout.InfiniteTimeSpan);
            _cancellation = cancellationToken.UnsafeRegister(static self => ((OpenSslDtlsServer)self!).Terminate(DtlsError.Cancelled, null), this);
        }

        _running = true;
        Schedule();
        return _keys.Task;
    }

    /// <summary>Ends the association; the worker then sends close_notify if it was connected and frees OpenSSL's objects.</summary>
    public void Close() => Terminate(DtlsError.LocallyClosed, null);

    public override void Execute()
    {
        var previous = t_current;
        t_current = this;
        try
        {
            while (true)
            {
                try
                {
                    Step();
                }
                catch (Exception exception)
                {
                    // Nothing may escape into the worker thread; an unexpected failure ends this association only.
                    Terminate(DtlsError.ProtocolError, $"DTLS protocol failure: {exception.GetType().Name}: {exception.Message}");
                    Release();
                }

                Volatile.Write(ref _scheduled, 0);
                if (!HasWork() || Interlocked.Exchange(ref _scheduled, 1) != 0)
                {
                    return;
                }
            }
        }
        finally
        {
            t_current = previous;
        }
    }

    private bool HasWork() =>
        !_inbox.IsEmpty || Volatile.Read(ref _timerDue) != 0 || (_ended != DtlsError.None && !_released);

    private void Schedule()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _options.OpenSslWorkers.Post(this);
        }
    }

    private void Step()
    {
        if (_released)
        {
            Volatile.Write(ref _timerDue, 0);
            DiscardInbox();
            return;
        }

        if (_ended == DtlsError.None && _ssl is null)
        {
            CreateSsl();
        }

        while (_ended == DtlsError.None && _inbox.TryDequeue(out var datagram))
        {
            Interlocked.Decrement(ref _inboxCount);
            try
            {
                Feed(datagram.Buffer.AsSpan(0, datagram.Length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(datagram.Buffer);
            }
        }

        if (_ended == DtlsError.None && Interlocked.Exchange(ref _timerDue, 0) != 0)
        {
            HandleTimeout();
        }

        if (_ended != DtlsError.None)
        {
            Release();
            return;
        }

        ArmRetransmission();
    }

    private void CreateSsl()
    {
        OpenSslNative.ERR_clear_error();
        var ssl = OpenSslNative.SSL_new(_context.Handle.DangerousGetHandle());
        if (ssl == IntPtr.Zero)
        {
            FailFromOpenSsl(OpenSslNative.SslErrorSsl, "SSL_new");
            return;
        }

        _ssl = SafeSslHandle.Adopt(ssl);
        var read = OpenSslNative.BIO_new(OpenSslNative.BIO_s_mem());
        var write = OpenSslNative.BIO_new(OpenSslNative.BIO_s_mem());
        if (read == IntPtr.Zero || write == IntPtr.Zero)
        {
            if (read != IntPtr.Zero)
            {
                OpenSslNative.BIO_free(read);
            }

            if (write != IntPtr.Zero)
            {
                OpenSslNative.BIO_free(write);
            }

            FailFromOpenSsl(OpenSslNative.SslErrorSsl, "BIO_new");
            return;
        }

        // An empty memory BIO reads as "retry later", never as end of file.
        OpenSslNative.BIO_ctrl(read, OpenSslNative.BioCSetBufMemEofReturn, -1, IntPtr.Zero);
        OpenSslNative.BIO_ctrl(write, OpenSslNative.BioCSetBufMemEofReturn, -1, IntPtr.Zero);
        OpenSslNative.SSL_set_bio(ssl, read, write);
        _readBio = read;
        _writeBio = write;
        OpenSslNative.SSL_set_accept_state(ssl);
        OpenSslNative.SSL_ctrl(ssl, OpenSslNative.SslCtrlSetMtu, _options.MaxDatagramSize, IntPtr.Zero);
        fixed (byte* profiles = OpenSslContext.SrtpProfileList(_handshake.SrtpProfiles))
        {
            // Returns 0 on success (unlike most of OpenSSL).
            if (OpenSslNative.SSL_set_tlsext_use_srtp(ssl, profiles) != 0)
            {
                FailFromOpenSsl(OpenSslNative.SslErrorSsl, "SSL_set_tlsext_use_srtp");
            }
        }
    }

    private void Feed(ReadOnlySpan<byte> datagram)
    {
        var ssl = _ssl!.DangerousGetHandle();
        OpenSslNative.ERR_clear_error();
        fixed (byte* data = datagram)
        {
            if (OpenSslNative.BIO_write(_readBio, data, datagram.Length) != datagram.Length)
            {
                FailFromOpenSsl(OpenSslNative.SslErrorSsl, "BIO_write");
                return;
            }
        }

        if (!_connected)
        {
            var result = OpenSslNative.SSL_do_handshake(ssl);
            var error = result == 1 ? 0 : OpenSslNative.SSL_get_error(ssl, result);
            Flush();
            if (result == 1)
            {
                OnConnected(ssl);
            }
            else if (error is OpenSslNative.SslErrorWantRead or OpenSslNative.SslErrorWantWrite)
            {
                OpenSslNative.ERR_clear_error();
            }
            else
            {
                FailFromOpenSsl(error, null);
            }

            return;
        }

        // Connected: no application data is expected (no data channels); SSL_read processes alerts, close_notify and
        // a retransmitted final flight of the client (which makes OpenSSL resend ours).
        _discard ??= new byte[DtlsDatagramChannel.MaxDatagramSize];
        int read;
        fixed (byte* buffer = _discard)
        {
            while ((read = OpenSslNative.SSL_read(ssl, buffer, _discard.Length)) > 0)
            {
            }
        }

        var readError = OpenSslNative.SSL_get_error(ssl, read);
        Flush();
        if (readError == OpenSslNative.SslErrorZeroReturn || (OpenSslNative.SSL_get_shutdown(ssl) & OpenSslNative.SslReceivedShutdown) != 0)
        {
            OpenSslNative.ERR_clear_error();
            Terminate(DtlsError.PeerClosed, null);
        }
        else if (readError is OpenSslNative.SslErrorWantRead or OpenSslNative.SslErrorWantWrite)
        {
            OpenSslNative.ERR_clear_error();
        }
        else
        {
            FailFromOpenSsl(readError, null);
        }
    }

    private void HandleTimeout()
    {
        OpenSslNative.ERR_clear_error();
        var result = OpenSslNative.SSL_ctrl(_ssl!.DangerousGetHandle(), OpenSslNative.DtlsCtrlHandleTimeout, 0, IntPtr.Zero);
        Flush();
        if (result < 0)
        {
            FailFromOpenSsl(OpenSslNative.SslErrorSsl, "DTLSv1_handle_timeout");
        }
    }

    private void ArmRetransmission()
    {
        if (_ssl is null)
        {
            return;
        }

        OpenSslNative.TimeVal due;
        if (OpenSslNative.SSL_ctrl(_ssl.DangerousGetHandle(), OpenSslNative.DtlsCtrlGetTimeout, 0, (IntPtr)(&due)) != 1)
        {
            return;
        }

        var wait = TimeSpan.FromTicks(due.Seconds * TimeSpan.TicksPerSecond + due.Microseconds * TimeSpan.TicksPerMicrosecond);
        if (wait < TimeSpan.FromMilliseconds(1))
        {
            wait = TimeSpan.FromMilliseconds(1);
        }

        _retransmission ??= _time.CreateTimer(
            static self =>
            {
                var server = (OpenSslDtlsServer)self!;
                Volatile.Write(ref server._timerDue, 1);
                server.Schedule();
            },
            this,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        _retransmission.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private void OnConnected(IntPtr ssl)
    {
        var selected = OpenSslNative.SSL_get_selected_srtp_profile(ssl);
        var profile = selected == IntPtr.Zero ? (ushort)0 : (ushort)((OpenSslNative.SrtpProtectionProfile*)selected)->Id;
        if (!SrtpProfiles.IsSupported(profile))
        {
            Terminate(DtlsError.NoCommonSrtpProfile, "The handshake completed without a common SRTP protection profile.");
            return;
        }

        var peer = OpenSslNative.SSL_get1_peer_certificate(ssl);
        if (peer == IntPtr.Zero)
        {
            Terminate(DtlsError.FingerprintMismatch, "The peer sent no certificate.");
            return;
        }

        OpenSslNative.X509_free(peer);
        var length = DtlsHandshakeState.KeyingMaterialLength(profile);
        Span<byte> material = stackalloc byte[64];
        material = material[..length];
        fixed (byte* output = material)
        fixed (byte* label = ExporterLabel)
        {
            if (OpenSslNative.SSL_export_keying_material(ssl, output, (nuint)length, label, (nuint)ExporterLabel.Length, null, 0, 0) != 1)
            {
                FailFromOpenSsl(OpenSslNative.SslErrorSsl, "SSL_export_keying_material");
                return;
            }
        }

        _handshake.SetKeys(profile, material, isServer: true);
        material.Clear();
        var keys = _handshake.Keys!;
        lock (_gate)
        {
            if (_ended != DtlsError.None)
            {
                return;
            }

            _state = DtlsTransportState.Connected;
        }

        _connected = true;
        _timeout?.Dispose();
        _cancellation.Dispose();
        DtlsMetrics.Succeeded(DtlsRole.Server, _startedAt);
        DtlsLog.HandshakeCompleted(_logger, DtlsRole.Server, (long)Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds, profile);
        _keys.TrySetResult(keys);
    }

    /// <summary>Called by the ClientHello callback: refuses a hello without a common SRTP profile or the extended master secret.</summary>
    internal bool AcceptClientHello(IntPtr ssl)
    {
        int[]? offered = null;
        if (OpenSslNative.SSL_client_hello_get0_ext(ssl, OpenSslNative.ExtensionUseSrtp, out var data, out var length) == 1)
        {
            // UseSRTPData: uint16 profiles length, the profiles (uint16 each), then the MKI.
            var body = new ReadOnlySpan<byte>(data, (int)length);
            if (body.Length >= 2)
            {
                var count = Math.Min((body[0] << 8 | body[1]) / 2, (body.Length - 2) / 2);
                offered = new int[count];
                for (var i = 0; i < count; i++)
                {
                    offered[i] = body[2 + 2 * i] << 8 | body[3 + 2 * i];
                }
            }
        }

        if (_handshake.ChooseProfile(offered) == 0)
        {
            _handshake.Record(
                DtlsError.NoCommonSrtpProfile,
                offered is null ? "The client sent no use_srtp extension." : "The client offered no SRTP protection profile we support.",
                AlertDescription.handshake_failure);
            return false;
        }

        if (OpenSslNative.SSL_client_hello_get0_ext(ssl, OpenSslNative.ExtensionExtendedMasterSecret, out _, out _) != 1)
        {
            _handshake.Record(
                DtlsError.NoExtendedMasterSecret, "The peer did not negotiate the extended master secret (RFC 7627).", AlertDescription.handshake_failure);
            return false;
        }

        return true;
    }

    /// <summary>Called by the certificate-verify callback with the client's end-entity certificate.</summary>
    internal bool AcceptPeerCertificate(IntPtr x509)
    {
        if (x509 == IntPtr.Zero)
        {
            _handshake.Record(DtlsError.FingerprintMismatch, "The peer sent no certificate.", AlertDescription.bad_certificate);
            return false;
        }

        var length = OpenSslNative.i2d_X509(x509, null);
        if (length <= 0)
        {
            _handshake.Record(DtlsError.FingerprintMismatch, "The peer's certificate could not be encoded.", AlertDescription.bad_certificate);
            return false;
        }

        var der = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            fixed (byte* start = der)
            {
                var cursor = start;
                length = OpenSslNative.i2d_X509(x509, &cursor);
            }

            return length > 0 && _handshake.AcceptPeerCertificate(der.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(der);
        }
    }

    /// <summary>Drains the write BIO and sends it as datagrams of at most the MTU, split only between DTLS records.</summary>
    private void Flush()
    {
        var pending = (int)OpenSslNative.BIO_ctrl(_writeBio, OpenSslNative.BioCtrlPending, 0, IntPtr.Zero);
        if (pending <= 0)
        {
            return;
        }

        if (_output is null || _output.Length < pending)
        {
            _output = new byte[Math.Max(pending, 4096)];
        }

        int read;
        fixed (byte* output = _output)
        {
            read = OpenSslNative.BIO_read(_writeBio, output, pending);
        }

        if (read <= 0)
        {
            return;
        }

        var bytes = _output.AsSpan(0, read);
        var start = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (!DtlsRecordHeader.TryParse(bytes[offset..], out var header))
            {
                offset = bytes.Length;
                break;
            }

            var record = DtlsRecordHeader.Size + header.Length;
            if (offset > start && offset + record - start > _options.MaxDatagramSize)
            {
                Send(bytes[start..offset]);
                start = offset;
            }

            offset += record;
        }

        if (offset > start)
        {
            Send(bytes[start..offset]);
        }
    }

    private void Send(ReadOnlySpan<byte> datagram)
    {
        try
        {
            _sender.Send(datagram);
        }
        catch (Exception)
        {
            // Best effort, as on a real network: the peer retransmits, and the handshake timeout bounds the rest.
        }
    }

    /// <summary>Ends the handshake from OpenSSL's error queue: our own recorded reason first, then the peer's alert.</summary>
    private void FailFromOpenSsl(int sslError, string? call)
    {
        var text = OpenSslNative.DrainErrors(out var first);
        var reason = OpenSslNative.Reason(first);
        if (_handshake.Failure != DtlsError.None)
        {
            Terminate(_handshake.Failure, _handshake.FailureMessage);
        }
        else if (reason == OpenSslNative.SslRPeerDidNotReturnACertificate)
        {
            Terminate(DtlsError.FingerprintMismatch, "The peer sent no certificate.");
        }
        else if (reason is >= OpenSslNative.SslAdReasonOffset and < OpenSslNative.SslAdReasonOffset + 256)
        {
            var description = (short)(reason - OpenSslNative.SslAdReasonOffset);
            Terminate(DtlsError.PeerAlert, $"The peer sent fatal alert {AlertDescription.GetText(description)} ({description}).");
        }
        else if (sslError == OpenSslNative.SslErrorZeroReturn)
        {
            Terminate(DtlsError.PeerClosed, null);
        }
        else
        {
            Terminate(DtlsError.ProtocolError, $"DTLS protocol failure: {call ?? "OpenSSL"}: {text ?? $"SSL_get_error {sslError}"}.");
        }
    }

    /// <summary>Decides the association's end (first call wins): state, <see cref="Closed"/>, the handshake task, metrics, log.</summary>
    private void Terminate(DtlsError reason, string? message)
    {
        bool wasConnected;
        lock (_gate)
        {
            if (_ended != DtlsError.None)
            {
                return;
            }

            wasConnected = _state == DtlsTransportState.Connected;
            _state = wasConnected || reason == DtlsError.LocallyClosed ? DtlsTransportState.Closed : DtlsTransportState.Failed;
            _ended = reason;
        }

        var started = Volatile.Read(ref _started) != 0;
        if (!wasConnected)
        {
            message ??= reason switch
            {
                DtlsError.Timeout => $"No DTLS handshake within {_options.HandshakeTimeout.TotalSeconds:0.#} s.",
                DtlsError.PeerClosed => "The peer closed the association during the handshake.",
                _ => $"The DTLS handshake was stopped: {reason}.",
            };
            if (reason == DtlsError.Cancelled)
            {
                _keys.TrySetCanceled(_cancellationToken);
            }
            else
            {
                _keys.TrySetException(new DtlsHandshakeException(reason, message));
            }

            if (started)
            {
                DtlsMetrics.Failed(DtlsRole.Server, reason);
                DtlsLog.HandshakeFailed(_logger, DtlsRole.Server, reason, message);
            }
        }

        _closed.TrySetResult(reason);
        if (started)
        {
            DtlsLog.AssociationEnded(_logger, DtlsRole.Server, reason);
        }

        // Outside any step the worker still has to free OpenSSL's objects (and send close_notify on a local close).
        Schedule();
    }

    /// <summary>Frees the SSL object (and with it both BIOs), the timers and whatever is still queued. Worker only.</summary>
    private void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        if (_ssl is not null)
        {
            if (_connected && _ended == DtlsError.LocallyClosed)
            {
                OpenSslNative.ERR_clear_error();
                OpenSslNative.SSL_shutdown(_ssl.DangerousGetHandle());
                Flush();
            }

            OpenSslNative.ERR_clear_error();
            _ssl.Dispose();
            _ssl = null;
            _readBio = IntPtr.Zero;
            _writeBio = IntPtr.Zero;
        }

        _retransmission?.Dispose();
        _timeout?.Dispose();
        _cancellation.Dispose();
        DiscardInbox();
    }

    private void DiscardInbox()
    {
        while (_inbox.TryDequeue(out var datagram))
        {
            Interlocked.Decrement(ref _inboxCount);
            ArrayPool<byte>.Shared.Return(datagram.Buffer);
        }
    }
}
