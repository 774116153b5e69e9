namespace Webinar.Sfu.Sessions;

/// <summary>A presence entry as clients see it.</summary>
internal sealed record PresenceMember(Guid AttendeeId, string ExternalUserId, Guid ConnectionId);
