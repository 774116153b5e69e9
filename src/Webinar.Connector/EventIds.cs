namespace Webinar.Connector;

/// <summary>Every event id the connector logs with, in one place (<see cref="ConnectorLog"/>, <see cref="Client.ClientLog"/>).</summary>
internal static class EventIds
{
    // 3600–3699: the WebRTC client (Client/)
    public const int IceNominated = 3600;
    public const int SrtpReady = 3601;
    public const int ConnectFailed = 3602;
    public const int ReceiveLoopEnded = 3603;

    // 3700–3799: the connector session
    public const int Joined = 3700;
    public const int Disconnected = 3701;
    public const int RenegotiationFailed = 3702;
    public const int MediaFailed = 3703;
    public const int SubscriberFailed = 3704;
}
