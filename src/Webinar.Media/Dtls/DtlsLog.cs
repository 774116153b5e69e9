using Microsoft.Extensions.Logging;

namespace Webinar.Media.Dtls;

/// <summary>DTLS log messages; event ids 3100–3199 are reserved for the Dtls feature. Nothing here is per packet.</summary>
internal static partial class DtlsLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "DTLS {Role} handshake completed in {ElapsedMs} ms, SRTP profile 0x{Profile:X4}")]
    public static partial void HandshakeCompleted(ILogger logger, DtlsRole role, long elapsedMs, ushort profile);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "DTLS {Role} handshake failed: {Error}: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, DtlsRole role, DtlsError error, string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "DTLS {Role} association ended: {Reason}")]
    public static partial void AssociationEnded(ILogger logger, DtlsRole role, DtlsError reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "DTLS server engine: {Engine} ({Version})")]
    public static partial void ServerEngine(ILogger logger, DtlsEngine engine, string version);
}
