namespace Webinar.Media.Dtls;

/// <summary>Tuning for one <see cref="DtlsTransport"/>; the defaults suit browsers.</summary>
public sealed record DtlsTransportOptions
{
    public static DtlsTransportOptions Default { get; } = new();

    /// <summary>Upper bound on the whole handshake; after it the handshake fails with <see cref="DtlsError.Timeout"/>.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>SRTP profiles in order of preference. The server picks the first of these the client offers.</summary>
    public IReadOnlyList<ushort> SrtpProfiles { get; init; } = [Dtls.SrtpProfiles.AeadAes128Gcm, Dtls.SrtpProfiles.Aes128CmHmacSha1_80];

    /// <summary>Largest datagram we send; both engines fragment handshake messages to fit, and the OpenSSL server packs records into datagrams up to it.</summary>
    public int MaxDatagramSize { get; init; } = 1200;

    /// <summary>Incoming datagrams buffered before the handshake thread reads them; extra ones are dropped.</summary>
    public int ReceiveQueueCapacity { get; init; } = 64;

    /// <summary>
    /// The server's engine. <see cref="DtlsEngine.Automatic"/> (the default) is OpenSSL wherever libssl.so.3 loads
    /// (Linux with OpenSSL 3) and BouncyCastle elsewhere; the client role is always BouncyCastle.
    /// </summary>
    public DtlsEngine ServerEngine { get; init; } = DtlsEngine.Automatic;

    /// <summary>The OpenSSL server's step workers (one thread per core); the process-wide set unless a test brings its own.</summary>
    public DtlsHandshakeWorkers OpenSslWorkers { get; init; } = DtlsHandshakeWorkers.OpenSsl;

    /// <summary>
    /// The bounded threads that run BouncyCastle server handshakes (the fallback engine); the process-wide set unless a
    /// test brings its own.
    /// </summary>
    public DtlsHandshakeWorkers ServerWorkers { get; init; } = DtlsHandshakeWorkers.Server;

    /// <summary>
    /// Bounded threads for client handshakes; null (the default) gives each client handshake a thread of its own. A load
    /// generator with hundreds of clients sets a small set, so its handshakes do not fight each other for the CPU. Never
    /// share one set between clients and servers of the same process: each would wait for the other's flights.
    /// </summary>
    public DtlsHandshakeWorkers? ClientWorkers { get; init; }
}
