using Microsoft.Extensions.Logging;

namespace Webinar.Connector.Client;

/// <summary>Client log messages; their ids are in <see cref="EventIds"/> (3600–3699). Nothing here is per packet.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventIds.IceNominated, LogLevel.Debug, "WebRTC client on {Local}: ICE nominated toward {Remote}")]
    public static partial void IceNominated(ILogger logger, string local, string remote);

    [LoggerMessage(EventIds.SrtpReady, LogLevel.Debug, "WebRTC client on {Local}: SRTP ready (DTLS {Role}, profile 0x{Profile:X4})")]
    public static partial void SrtpReady(ILogger logger, string local, Webinar.Media.Dtls.DtlsRole role, ushort profile);

    [LoggerMessage(EventIds.ConnectFailed, LogLevel.Information, "WebRTC client on {Local} failed to connect: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string local, string reason);

    [LoggerMessage(EventIds.ReceiveLoopEnded, LogLevel.Information, "WebRTC client on {Local}: receive loop ended: {Reason}")]
    public static partial void ReceiveLoopEnded(ILogger logger, string local, string reason);
}
