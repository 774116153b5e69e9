using Webinar.Contracts.Meetings;
using Webinar.Contracts.Turn;

namespace Webinar.Contracts.JoinTokens;

/// <summary>
/// What a join token says: who may join which meeting with which capabilities, until when.
/// <see cref="PrimaryMeetingId"/> is set for attendees of a replica meeting. <see cref="IceServers"/> are the
/// attendee's TURN servers and credentials (minted by the control plane, expiring with the token), which the node
/// hands to the client in <c>joined</c> without holding the TURN secret itself. A <see cref="IsModerator"/> attendee
/// may start and stop the meeting's archive over signalling (claim <c>role: "moderator"</c>).
/// </summary>
public sealed record JoinTokenClaims(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    Guid? PrimaryMeetingId,
    AttendeeCapabilities Capabilities,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<IceServer>? IceServers = null,
    bool IsModerator = false);

/// <summary>Why a join token was refused.</summary>
public enum JoinTokenError
{
    None,
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
}
