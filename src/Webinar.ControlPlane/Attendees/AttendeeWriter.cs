using System.Data.Common;
using Dapper;
using Webinar.Contracts.Meetings;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.JoinTokens;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Attendees;

/// <summary>A row of <c>attendees</c>.</summary>
internal sealed class AttendeeRow
{
    public Guid AttendeeId { get; init; }

    public Guid MeetingId { get; init; }

    public string ExternalUserId { get; init; } = "";

    public string Audio { get; init; } = "";

    public string Video { get; init; } = "";

    public string Content { get; init; } = "";

    public string JoinToken { get; init; } = "";

    public long Seq { get; init; }

    public string Role { get; init; } = nameof(AttendeeRole.Attendee);

    public Attendee ToAttendee() => new(
        AttendeeId,
        ExternalUserId,
        JoinToken,
        new AttendeeCapabilities(Enum.Parse<MediaCapability>(Audio), Enum.Parse<MediaCapability>(Video), Enum.Parse<MediaCapability>(Content)),
        Enum.Parse<AttendeeRole>(Role));
}

/// <summary>The rules for one attendee in a request, independent of the meeting.</summary>
internal static class AttendeeRules
{
    public const int MaxBatch = 100;

    public static string? Validate(CreateAttendeeRequest? request)
    {
        if (request is null)
        {
            return "An attendee is required.";
        }

        if (string.IsNullOrWhiteSpace(request.ExternalUserId) || request.ExternalUserId.Length is < 2 or > 64)
        {
            return "ExternalUserId is required and must be 2 to 64 characters.";
        }

        if (StorableText.Problem(nameof(request.ExternalUserId), request.ExternalUserId) is { } badText)
        {
            return badText;
        }

        if (request.Capabilities is { } c && (!Defined(c.Audio) || !Defined(c.Video) || !Defined(c.Content)))
        {
            return "Capabilities must be SendReceive, Send, Receive or None.";
        }

        if (request.Role is { } role && !Enum.IsDefined(role))
        {
            return "Role must be Attendee or Moderator.";
        }

        return null;
    }

    /// <summary>The capabilities an attendee gets in <paramref name="meeting"/>, or the reason they are refused.</summary>
    public static (AttendeeCapabilities? Capabilities, string? Problem) Resolve(MeetingRow meeting, CapabilitiesRequest? requested)
    {
        var fallback = meeting.IsReplica ? MediaCapability.Receive : MediaCapability.SendReceive;
        var capabilities = new AttendeeCapabilities(requested?.Audio ?? fallback, requested?.Video ?? fallback, requested?.Content ?? fallback);
        if (meeting.IsReplica && capabilities.CanSendAny)
        {
            return (null, "Attendees of a replica meeting can only receive: each capability must be Receive or None.");
        }

        return (capabilities, null);
    }

    private static bool Defined(MediaCapability? c) => c is null || Enum.IsDefined(c.Value);
}

/// <summary>
/// Creates attendees in a meeting whose row the caller has locked (<c>FOR UPDATE</c>) in <c>tx</c>, so the count
/// check and the increment are atomic: concurrent creates queue on the row lock and never overshoot MaxCount.
/// Writes an AttendeeCreated event per attendee to the outbox in the same transaction.
/// </summary>
internal sealed class AttendeeWriter(JoinTokenIssuer tokens)
{
    public async Task<(List<Attendee> Created, List<CreateAttendeeError> Errors)> CreateAsync(
        DbConnection connection,
        DbTransaction tx,
        MeetingRow meeting,
        IReadOnlyList<CreateAttendeeRequest> requests,
        DateTimeOffset now,
        CancellationToken ct)
    {
        var created = new List<Attendee>(requests.Count);
        var errors = new List<CreateAttendeeError>();
        var available = meeting.MaxAttendees - meeting.AttendeeCount;
        foreach (var request in requests)
        {
            if (AttendeeRules.Validate(request) is { } invalid)
            {
                errors.Add(new CreateAttendeeError(request?.ExternalUserId, ErrorCodes.BadRequest, invalid));
                continue;
            }

            var (capabilities, refused) = AttendeeRules.Resolve(meeting, request.Capabilities);
            if (refused is not null)
            {
                errors.Add(new CreateAttendeeError(request.ExternalUserId, ErrorCodes.BadRequest, refused));
                continue;
            }

            if (created.Count >= available)
            {
                errors.Add(new CreateAttendeeError(request.ExternalUserId, ErrorCodes.LimitExceeded, $"The meeting already has its maximum of {meeting.MaxAttendees} attendees."));
                continue;
            }

            var id = Guid.CreateVersion7(now);
            var role = request.Role ?? AttendeeRole.Attendee;
            var issued = tokens.Issue(meeting.MeetingId, id, request.ExternalUserId!, meeting.PrimaryMeetingId, capabilities!, role == AttendeeRole.Moderator, now);
            created.Add(new Attendee(id, request.ExternalUserId!, issued.Token, capabilities!, role, issued.IceServers.Count == 0 ? null : issued.IceServers.Select(s => new IceServerShape(s.Urls, s.Username, s.Credential)).ToList()));
        }

        if (created.Count == 0)
        {
            return (created, errors);
        }

        var n = created.Count;
        var ids = new Guid[n];
        var users = new string[n];
        var audio = new string[n];
        var video = new string[n];
        var content = new string[n];
        var joinTokens = new string[n];
        var roles = new string[n];
        var events = new AttendeeCreated[n];
        for (var i = 0; i < n; i++)
        {
            var a = created[i];
            ids[i] = a.AttendeeId;
            users[i] = a.ExternalUserId;
            audio[i] = a.Capabilities.Audio.ToString();
            video[i] = a.Capabilities.Video.ToString();
            content[i] = a.Capabilities.Content.ToString();
            joinTokens[i] = a.JoinToken;
            roles[i] = a.Role.ToString();
            events[i] = new AttendeeCreated(meeting.MeetingId, a.AttendeeId, a.ExternalUserId, a.Capabilities, now);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO attendees (attendee_id, meeting_id, external_user_id, audio, video, content, join_token, created_at, role)
            SELECT a, @meetingId, u, au, vi, co, jt, @now, ro
            FROM unnest(@ids, @users, @audio, @video, @content, @joinTokens, @roles) WITH ORDINALITY AS t(a, u, au, vi, co, jt, ro, n)
            ORDER BY n
            """,
            new { meetingId = meeting.MeetingId, now, ids, users, audio, video, content, joinTokens, roles },
            tx,
            cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE meetings SET attendee_count = attendee_count + @n WHERE meeting_id = @meetingId",
            new { n, meetingId = meeting.MeetingId },
            tx,
            cancellationToken: ct));
        await OutboxWriter.AddManyAsync(connection, tx, events, now, ct);
        return (created, errors);
    }
}
