using MediatR;
using Microsoft.AspNetCore.Mvc;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Attendees;

internal static class AttendeeEndpoints
{
    public const string BatchCreateOperation = "batch-create";

    public static RouteGroupBuilder MapAttendees(this RouteGroupBuilder meetings)
    {
        meetings.MapPost("/{meetingId}/attendees", CreateAsync)
            .WithName("CreateAttendee")
            .WithSummary("CreateAttendee; with ?operation=batch-create, BatchCreateAttendee.")
            .Accepts<CreateAttendeeRequest>("application/json")
            .Accepts<BatchCreateAttendeeRequest>("application/json")
            .Produces<AttendeeResponse>(StatusCodes.Status201Created)
            .Produces<BatchCreateAttendeeResponse>(StatusCodes.Status201Created)
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        meetings.MapGet("/{meetingId}/attendees", async (
                    Guid meetingId,
                    [FromQuery(Name = "max-results")] int? maxResults,
                    [FromQuery(Name = "next-token")] string? nextToken,
                    HttpContext http,
                    IMediator mediator,
                    CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListAttendees(http.User.PlatformId(), meetingId, maxResults, nextToken), ct)))
            .WithName("ListAttendees")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        meetings.MapGet("/{meetingId}/attendees/{attendeeId}", async (Guid meetingId, Guid attendeeId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetAttendee(http.User.PlatformId(), meetingId, attendeeId), ct)))
            .WithName("GetAttendee")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        meetings.MapDelete("/{meetingId}/attendees/{attendeeId}", async (Guid meetingId, Guid attendeeId, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteAttendee(http.User.PlatformId(), meetingId, attendeeId), ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteAttendee")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return meetings;
    }

    /// <summary>The body's shape depends on the operation, so it is read here rather than bound.</summary>
    private static async Task<IResult> CreateAsync(
        Guid meetingId,
        [FromQuery(Name = "operation")] string? operation,
        HttpContext http,
        IMediator mediator,
        CancellationToken ct)
    {
        switch (operation)
        {
            case null:
                var single = await JsonBody.ReadAsync<CreateAttendeeRequest>(http, ct);
                var attendee = await mediator.Send(new CreateAttendee(http.User.PlatformId(), meetingId, single), ct);
                return TypedResults.Created($"/meetings/{meetingId}/attendees/{attendee.Attendee.AttendeeId}", attendee);
            case BatchCreateOperation:
                var batch = await JsonBody.ReadAsync<BatchCreateAttendeeRequest>(http, ct);
                return TypedResults.Created($"/meetings/{meetingId}/attendees", await mediator.Send(new BatchCreateAttendee(http.User.PlatformId(), meetingId, batch), ct));
            default:
                throw ApiException.BadRequest($"Unknown operation '{operation}'; the only operation is {BatchCreateOperation}.");
        }
    }
}
