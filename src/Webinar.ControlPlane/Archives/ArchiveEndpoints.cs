using MediatR;
using Microsoft.AspNetCore.Mvc;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Meetings;

namespace Webinar.ControlPlane.Archives;

internal static class ArchiveEndpoints
{
    /// <summary>StartArchive, StopArchive and ListArchives under <c>/meetings</c>.</summary>
    public static RouteGroupBuilder MapMeetingArchives(this RouteGroupBuilder meetings)
    {
        meetings.MapPost("/{meetingId}/archives", async (Guid meetingId, [FromBody] StartArchiveRequest? body, IMediator mediator, CancellationToken ct) =>
            {
                var result = await mediator.Send(new StartArchive(meetingId, body), ct);
                return TypedResults.Created($"/archives/{result.Archive.ArchiveId}", result);
            })
            .WithName("StartArchive")
            .Produces<ArchiveResponse>(StatusCodes.Status201Created)
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        meetings.MapPost("/{meetingId}/archives/{archiveId}/stop", async (Guid meetingId, Guid archiveId, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new StopArchive(meetingId, archiveId), ct)))
            .WithName("StopArchive")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        meetings.MapGet("/{meetingId}/archives", async (Guid meetingId, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListArchives(meetingId), ct)))
            .WithName("ListArchives")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return meetings;
    }

    /// <summary>GetArchive, DeleteArchive and the content under <c>/archives</c>.</summary>
    public static RouteGroupBuilder MapArchives(this RouteGroupBuilder archives)
    {
        archives.MapGet("/{archiveId}", async (Guid archiveId, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetArchive(archiveId), ct)))
            .WithName("GetArchive")
            .ProducesApiErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        archives.MapDelete("/{archiveId}", async (Guid archiveId, IMediator mediator, CancellationToken ct) =>
            {
                await mediator.Send(new DeleteArchive(archiveId), ct);
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
        ArchiveUrls urls,
        ApiKeyStore keys,
        IMediator mediator,
        CancellationToken ct)
    {
        var signed = expires is { } e && urls.IsValid(archiveId, e, signature);
        if (!signed && !HasApiKey(http, keys))
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
                "An archive's content needs the API key or the signed Url of GetArchive (it may have expired).");
        }

        var content = await mediator.Send(new GetArchiveContent(archiveId), ct);
        var download = content.ContentType == "application/zip" ? content.FileName : null;
        return Results.File(content.Path, content.ContentType, download, enableRangeProcessing: true);
    }

    private static bool HasApiKey(HttpContext http, ApiKeyStore keys)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        return header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && keys.IsValid(header.AsSpan(Bearer.Length).Trim());
    }
}
