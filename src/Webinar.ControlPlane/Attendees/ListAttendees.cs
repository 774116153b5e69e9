using System.Buffers.Binary;
using System.Buffers.Text;
using Dapper;
using MediatR;
using Npgsql;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Meetings;

namespace Webinar.ControlPlane.Attendees;

/// <summary>ListAttendees, oldest first; <paramref name="NextToken"/> continues after the previous page.</summary>
internal sealed record ListAttendees(string PlatformId, Guid MeetingId, int? MaxResults, string? NextToken) : IRequest<ListAttendeesResponse>;

internal sealed class ListAttendeesValidator : IValidator<ListAttendees>
{
    public string? Validate(ListAttendees request)
    {
        if (request.MaxResults is < 1 or > 100)
        {
            return "max-results must be 1 to 100.";
        }

        return request.NextToken is not null && !NextTokens.TryRead(request.NextToken, out _) ? "next-token is not valid." : null;
    }
}

/// <summary>An opaque page cursor: the last attendee's sequence number, base64url.</summary>
internal static class NextTokens
{
    private static readonly System.Buffers.SearchValues<char> Alphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string Write(long seq)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, seq);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryRead(string token, out long seq)
    {
        seq = 0;
        Span<byte> bytes = stackalloc byte[9];
        // Eight bytes are eleven base64url characters; anything else, or any other character, is not ours.
        if (token.Length != 11 || token.AsSpan().ContainsAnyExcept(Alphabet) || !Base64Url.TryDecodeFromChars(token, bytes, out var written) || written != 8)
        {
            return false;
        }

        seq = BinaryPrimitives.ReadInt64BigEndian(bytes);
        return seq >= 0;
    }
}

internal sealed class ListAttendeesHandler(NpgsqlDataSource dataSource) : IRequestHandler<ListAttendees, ListAttendeesResponse>
{
    public async Task<ListAttendeesResponse> Handle(ListAttendees request, CancellationToken ct)
    {
        var max = request.MaxResults ?? 100;
        var after = 0L;
        if (request.NextToken is not null)
        {
            NextTokens.TryRead(request.NextToken, out after);
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        _ = await MeetingStore.GetOwnedAsync(connection, null, request.PlatformId, request.MeetingId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        var rows = (await connection.QueryAsync<AttendeeRow>(new CommandDefinition(
            """
            SELECT attendee_id, meeting_id, external_user_id, audio, video, content, join_token, seq, role
            FROM attendees WHERE meeting_id = @meetingId AND deleted_at IS NULL AND seq > @after
            ORDER BY seq LIMIT @limit
            """,
            new { meetingId = request.MeetingId, after, limit = max + 1 },
            cancellationToken: ct))).AsList();
        var more = rows.Count > max;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new ListAttendeesResponse(rows.Select(r => r.ToAttendee()).ToList(), more ? NextTokens.Write(rows[^1].Seq) : null);
    }
}
