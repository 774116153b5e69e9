using Microsoft.Extensions.Logging;

namespace Webinar.Connector.Client;

/// <summary>Client log messages; event ids 3600–3699 are reserved for the Client feature. Nothing here is per packet.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 3600, Level = LogLevel.Debug, Message = "WebRTC client on {Local}: ICE nominated toward {Remote}")]
    public static partial void IceNominated(ILogger logger, string local, string remote);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Debug, Message = "WebRTC client on {Local}: SRTP ready (DTLS {Role}, profile 0x{Profile:X4})")]
    public static partial void SrtpReady(ILogger logger, string local, Webinar.Media.Dtls.DtlsRole role, ushort profile);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "WebRTC client on {Local} failed to connect: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string local, string reason);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Information, Message = "WebRTC client on {Local}: receive loop ended: {Reason}")]
    public static partial void ReceiveLoopEnded(ILogger logger, string local, string reason);
}
