using MediatR;
using Microsoft.AspNetCore.Mvc;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Archives;

internal static class ArchiveEndpoints
{
    /// <summary>StartArchive, StopArchive and ListArchives under <c>/meetings</c>.</summary>
    public static RouteGroupBuilder MapMeetingArchives(this RouteGroupBuilder meetings)
    {
        meetings.MapPost("/{meetingId}/archives", async (Guid meetingId, [FromBody] StartArchiveRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                var result = await mediator.Send(new StartArchive(http.User.PlatformId(), meetingId, body), ct);
                return TypedResults.Created($"/archives/{result.Archive.ArchiveId}", result);
            })
            .WithName("StartArchive")
            .Produces<ArchiveResponse>(StatusCodes.Status201Created)
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        meetings.MapPost("/{meetingId}/archives/{archiveId}/stop", async (Guid meetingId, Guid archiveId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new StopArchive(http.User.PlatformId(), meetingId, archiveId), ct)))
            .WithName("StopArchive")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        meetings.MapGet("/{meetingId}/archives", async (Guid meetingId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListArchives(http.User.PlatformId(), meetingId), ct)))
            .WithName("ListArchives")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return meetings;
    }

    /// <summary>GetArchive, DeleteArchive and the content under <c>/archives</c>.</summary>
    public static RouteGroupBuilder MapArchives(this RouteGroupBuilder archives)
    {
        archives.MapGet("/{archiveId}", async (Guid archiveId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetArchive(http.User.PlatformId(), archiveId), ct)))
            .WithName("GetArchive")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        archives.MapDelete("/{archiveId}", async (Guid archiveId, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteArchive(http.User.PlatformId(), archiveId), ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteArchive")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        archives.MapGet("/{archiveId}/content", ContentAsync)
            .WithName("GetArchiveContent")
            .WithSummary("The archive's file (MP4, or a zip for Individual), with HTTP range requests; the API key or a signed Url.")
            .AllowAnonymous()
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return archives;
    }

    private static async Task<IResult> ContentAsync(
        Guid archiveId,
        [FromQuery(Name = "expires")] long? expires,
        [FromQuery(Name = "signature")] string? signature,
        HttpContext http,
        PlatformDirectory platforms,
        IMediator mediator,
        CancellationToken ct)
    {
        var content = await mediator.Send(new GetArchiveContent(archiveId, KeyPlatform(http, platforms), expires, signature), ct);
        var download = content.ContentType == "application/zip" ? content.FileName : null;
        return Results.File(content.Path, content.ContentType, download, enableRangeProcessing: true);
    }

    /// <summary>The platform of the request's API key, if it has a valid one (the content route is anonymous for signed links).</summary>
    private static string? KeyPlatform(HttpContext http, PlatformDirectory platforms)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        return header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? platforms.Authenticate(header.AsSpan(Bearer.Length).Trim())?.Id : null;
    }
}
