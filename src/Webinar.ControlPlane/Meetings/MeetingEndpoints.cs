using MediatR;
using Microsoft.AspNetCore.Mvc;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Meetings;

internal static class MeetingEndpoints
{
    public const string CreateAttendeesOperation = "create-attendees";

    public static RouteGroupBuilder MapMeetings(this RouteGroupBuilder meetings)
    {
        meetings.MapPost("/", CreateAsync)
            .WithName("CreateMeeting")
            .WithSummary("CreateMeeting; with ?operation=create-attendees, CreateMeetingWithAttendees.")
            .Produces<MeetingResponse>(StatusCodes.Status201Created)
            .Produces<CreateMeetingWithAttendeesResponse>(StatusCodes.Status201Created)
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable);
        meetings.MapGet("/{meetingId}", async (Guid meetingId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetMeeting(http.User.PlatformId(), meetingId), ct)))
            .WithName("GetMeeting")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        meetings.MapGet("/{meetingId}/replicas", async (Guid meetingId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListReplicas(http.User.PlatformId(), meetingId), ct)))
            .WithName("ListReplicaMeetings")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        meetings.MapDelete("/{meetingId}", async (Guid meetingId, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteMeeting(http.User.PlatformId(), meetingId), ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteMeeting")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return meetings;
    }

    private static async Task<IResult> CreateAsync(
        [FromQuery(Name = "operation")] string? operation,
        [FromBody] CreateMeetingRequest body,
        HttpContext http,
        IMediator mediator,
        CancellationToken ct)
    {
        var withAttendees = operation switch
        {
            null => false,
            CreateAttendeesOperation => true,
            _ => throw ApiException.BadRequest($"Unknown operation '{operation}'; the only operation is {CreateAttendeesOperation}."),
        };
        var result = await mediator.Send(new CreateMeeting(http.User.PlatformId(), body, withAttendees), ct);
        var location = $"/meetings/{result.Meeting.MeetingId}";
        return withAttendees ? TypedResults.Created(location, result) : TypedResults.Created(location, new MeetingResponse(result.Meeting));
    }
}

internal static class ApiErrorMetadata
{
    public static RouteHandlerBuilder ProducesApiErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<ApiError>(status);
        }

        return builder.Produces<ApiError>(StatusCodes.Status401Unauthorized);
    }
}
