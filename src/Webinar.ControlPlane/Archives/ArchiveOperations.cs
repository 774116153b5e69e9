using Dapper;
using MediatR;
using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Outbox;

namespace Webinar.ControlPlane.Archives;

internal sealed record StartArchive(string PlatformId, Guid MeetingId, StartArchiveRequest? Body) : IRequest<ArchiveResponse>;

internal sealed class StartArchiveValidator : IValidator<StartArchive>
{
    public string? Validate(StartArchive request) => ArchiveRules.Validate(request.Body);
}

internal sealed class StartArchiveHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, ArchiveUrls urls, TimeProvider time, IOptions<ArchiveOptions> options)
    : IRequestHandler<StartArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(StartArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetOwnedAsync(connection, tx, request.PlatformId, request.MeetingId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");

        // Read once the meeting is locked: the archive's StartedAt is as close to the answer as it can be.
        var archive = await ArchiveLifecycle.StartAsync(connection, tx, meeting, ArchiveRules.Settings(request.Body, options.Value.MaxDuration), time.GetUtcNow(), ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        return new ArchiveResponse(archive.ToArchive(urls.For(archive)));
    }
}

internal sealed record StopArchive(string PlatformId, Guid MeetingId, Guid ArchiveId) : IRequest<ArchiveResponse>;

internal sealed class StopArchiveHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, ArchiveUrls urls, TimeProvider time)
    : IRequestHandler<StopArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(StopArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var archive = await ArchiveStore.GetOwnedAsync(connection, tx, request.PlatformId, request.ArchiveId, forUpdate: true, ct);
        if (archive is null || archive.MeetingId != request.MeetingId)
        {
            throw ApiException.NotFound($"Archive {request.ArchiveId} of meeting {request.MeetingId} does not exist.");
        }

        if (!await ArchiveLifecycle.StopAsync(connection, tx, archive, ArchiveStopReasons.Api, tellNode: true, time.GetUtcNow(), ct))
        {
            throw ApiException.Conflict($"Archive {request.ArchiveId} is not recording (Status {archive.Status}).");
        }

        var stopped = (await ArchiveStore.GetAsync(connection, tx, request.ArchiveId, forUpdate: false, ct))!;
        await tx.CommitAsync(ct);
        outbox.Notify();
        return new ArchiveResponse(stopped.ToArchive(urls.For(stopped)));
    }
}

internal sealed record GetArchive(string PlatformId, Guid ArchiveId) : IRequest<ArchiveResponse>;

internal sealed class GetArchiveHandler(NpgsqlDataSource dataSource, ArchiveUrls urls) : IRequestHandler<GetArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(GetArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var archive = await ArchiveStore.GetOwnedAsync(connection, null, request.PlatformId, request.ArchiveId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Archive {request.ArchiveId} does not exist.");
        return new ArchiveResponse(archive.ToArchive(urls.For(archive)));
    }
}

internal sealed record ListArchives(string PlatformId, Guid MeetingId) : IRequest<ArchivesResponse>;

internal sealed class ListArchivesHandler(NpgsqlDataSource dataSource, ArchiveUrls urls) : IRequestHandler<ListArchives, ArchivesResponse>
{
    public async Task<ArchivesResponse> Handle(ListArchives request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var archives = await ArchiveStore.ListForMeetingAsync(connection, request.PlatformId, request.MeetingId, ct);
        if (archives.Count == 0 && await MeetingStore.GetOwnedAsync(connection, null, request.PlatformId, request.MeetingId, forUpdate: false, ct) is null)
        {
            throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist and has no archives.");
        }

        return new ArchivesResponse(archives.ConvertAll(a => a.ToArchive(urls.For(a))));
    }
}

internal sealed record DeleteArchive(string PlatformId, Guid ArchiveId) : IRequest<Unit>;

internal sealed class DeleteArchiveHandler(NpgsqlDataSource dataSource, IArchiveStorage storage, TimeProvider time) : IRequestHandler<DeleteArchive, Unit>
{
    public async Task<Unit> Handle(DeleteArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var archive = await ArchiveStore.GetOwnedAsync(connection, tx, request.PlatformId, request.ArchiveId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Archive {request.ArchiveId} does not exist.");
        if (archive.State is ArchiveStatus.Started or ArchiveStatus.Stopped)
        {
            throw ApiException.Conflict($"Archive {request.ArchiveId} is {archive.Status}; stop it and wait until it is Available or Failed.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE archives SET deleted_at = @now WHERE archive_id = @id", new { id = archive.ArchiveId, now = time.GetUtcNow() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        await storage.DeleteAsync(archive.ArchiveId, ct);
        return Unit.Value;
    }
}

/// <summary>The archive's file on local storage, for GET /archives/{ArchiveId}/content.</summary>
internal sealed record ArchiveContent(string Path, string ContentType, string FileName);

/// <summary>
/// The content, for a caller authenticated as <paramref name="PlatformId"/> (API key) or holding a signed link
/// (<paramref name="Expires"/>, <paramref name="Signature"/>) of the archive's platform.
/// </summary>
internal sealed record GetArchiveContent(Guid ArchiveId, string? PlatformId, long? Expires, string? Signature) : IRequest<ArchiveContent>;

internal sealed class GetArchiveContentHandler(NpgsqlDataSource dataSource, IArchiveStorage storage, ArchiveUrls urls) : IRequestHandler<GetArchiveContent, ArchiveContent>
{
    public async Task<ArchiveContent> Handle(GetArchiveContent request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var found = await ArchiveStore.GetAsync(connection, null, request.ArchiveId, forUpdate: false, ct);
        var signed = found is not null && request.Expires is { } expires && urls.IsValid(found, expires, request.Signature);
        if (!signed && request.PlatformId is null)
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
                "An archive's content needs the API key or the signed Url of GetArchive (it may have expired).");
        }

        var archive = (signed || found?.PlatformId == request.PlatformId ? found : null)
            ?? throw ApiException.NotFound($"Archive {request.ArchiveId} does not exist.");
        if (archive.State != ArchiveStatus.Available || archive.FileName is null)
        {
            throw ApiException.NotFound($"Archive {request.ArchiveId} has no content (Status {archive.Status}).");
        }

        var path = storage.Find(archive.ArchiveId, archive.FileName)
            ?? throw ApiException.NotFound($"Archive {request.ArchiveId}'s file is missing from storage.");
        return new ArchiveContent(path, archive.ContentType ?? "application/octet-stream", archive.FileName);
    }
}
