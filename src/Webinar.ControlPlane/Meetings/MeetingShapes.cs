using Webinar.Contracts.Meetings;

namespace Webinar.ControlPlane.Meetings;

// HTTP request and response bodies, in Chime's PascalCase shapes. Request members are nullable so that a missing
// member is reported by a validator as a 400 with a message, not by the serializer.

internal sealed record Tag(string? Key, string? Value);

internal sealed record AttendeeFeatures(int? MaxCount);

internal sealed record MeetingFeatures(AttendeeFeatures? Attendee);

internal sealed record NotificationsConfiguration(string? WebhookUrl);

internal sealed record CapabilitiesRequest(MediaCapability? Audio, MediaCapability? Video, MediaCapability? Content);

/// <summary>A Moderator may start and stop the meeting's archive over signalling (its join token carries the role).</summary>
internal enum AttendeeRole
{
    Attendee,
    Moderator,
}

internal sealed record CreateAttendeeRequest(string? ExternalUserId, CapabilitiesRequest? Capabilities, AttendeeRole? Role = null);

internal sealed record CreateMeetingRequest(
    string? ClientRequestToken,
    string? ExternalMeetingId,
    string? MediaRegion,
    Guid? PrimaryMeetingId,
    MeetingFeatures? MeetingFeatures,
    IReadOnlyList<Tag>? Tags,
    NotificationsConfiguration? NotificationsConfiguration,
    IReadOnlyList<CreateAttendeeRequest>? Attendees,
    Archives.ArchiveMode? ArchiveMode = null);

internal sealed record MediaPlacement(string SignalingUrl);

internal sealed record Meeting(
    Guid MeetingId,
    string? ExternalMeetingId,
    string MediaRegion,
    Guid? PrimaryMeetingId,
    Archives.ArchiveMode ArchiveMode,
    MediaPlacement MediaPlacement,
    MeetingFeatures MeetingFeatures,
    IReadOnlyList<Tag> Tags,
    DateTimeOffset CreatedAt);

/// <summary>An attendee; <see cref="IceServers"/> (TURN URLs and credentials) only in the responses that create it.</summary>
internal sealed record Attendee(Guid AttendeeId, string ExternalUserId, string JoinToken, AttendeeCapabilities Capabilities, AttendeeRole Role, IReadOnlyList<IceServerShape>? IceServers = null);

/// <summary>A TURN server as the API shows it (the fields of a browser's RTCIceServer, in PascalCase).</summary>
internal sealed record IceServerShape(IReadOnlyList<string> Urls, string Username, string Credential);

/// <summary>One attendee a batch could not create.</summary>
internal sealed record CreateAttendeeError(string? ExternalUserId, string ErrorCode, string ErrorMessage);

internal sealed record MeetingResponse(Meeting Meeting);

internal sealed record CreateMeetingWithAttendeesResponse(Meeting Meeting, IReadOnlyList<Attendee> Attendees, IReadOnlyList<CreateAttendeeError> Errors);

internal sealed record ReplicasResponse(IReadOnlyList<Meeting> Meetings);

internal sealed record AttendeeResponse(Attendee Attendee);

internal sealed record BatchCreateAttendeeRequest(IReadOnlyList<CreateAttendeeRequest>? Attendees);

internal sealed record BatchCreateAttendeeResponse(IReadOnlyList<Attendee> Attendees, IReadOnlyList<CreateAttendeeError> Errors);

internal sealed record ListAttendeesResponse(IReadOnlyList<Attendee> Attendees, string? NextToken);
