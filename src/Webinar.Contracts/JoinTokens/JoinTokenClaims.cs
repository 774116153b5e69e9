using Webinar.Contracts.Meetings;

namespace Webinar.Contracts.JoinTokens;

/// <summary>
/// What a join token says: who may join which meeting with which capabilities, until when.
/// <see cref="PrimaryMeetingId"/> is set for attendees of a replica meeting.
/// </summary>
public sealed record JoinTokenClaims(
    Guid MeetingId,
    Guid AttendeeId,
    string ExternalUserId,
    Guid? PrimaryMeetingId,
    AttendeeCapabilities Capabilities,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);

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
