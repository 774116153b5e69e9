namespace Webinar.Contracts.Turn;

/// <summary>
/// One ICE server as a browser's <c>RTCIceServer</c> takes it: TURN URLs (<c>turn:</c>/<c>turns:</c>) and the
/// time-limited credential the control plane minted for one attendee (TURN REST scheme, see <see cref="TurnCredentials"/>).
/// </summary>
public sealed record IceServer(IReadOnlyList<string> Urls, string Username, string Credential);
