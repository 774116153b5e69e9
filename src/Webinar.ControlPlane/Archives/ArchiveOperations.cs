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

internal sealed record StartArchive(Guid MeetingId, StartArchiveRequest? Body) : IRequest<ArchiveResponse>;

internal sealed class StartArchiveValidator : IValidator<StartArchive>
{
    public string? Validate(StartArchive request) => ArchiveRules.Validate(request.Body);
}

internal sealed class StartArchiveHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, ArchiveUrls urls, TimeProvider time, IOptions<ArchiveOptions> options)
    : IRequestHandler<StartArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(StartArchive request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var meeting = await MeetingStore.GetAsync(connection, tx, request.MeetingId, forUpdate: true, ct)
            ?? throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist.");
        var archive = await ArchiveLifecycle.StartAsync(connection, tx, meeting, ArchiveRules.Settings(request.Body, options.Value.MaxDuration), now, ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        return new ArchiveResponse(archive.ToArchive(urls.For(archive)));
    }
}

internal sealed record StopArchive(Guid MeetingId, Guid ArchiveId) : IRequest<ArchiveResponse>;

internal sealed class StopArchiveHandler(NpgsqlDataSource dataSource, OutboxSignal outbox, ArchiveUrls urls, TimeProvider time)
    : IRequestHandler<StopArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(StopArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var archive = await ArchiveStore.GetAsync(connection, tx, request.ArchiveId, forUpdate: true, ct);
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

internal sealed record GetArchive(Guid ArchiveId) : IRequest<ArchiveResponse>;

internal sealed class GetArchiveHandler(NpgsqlDataSource dataSource, ArchiveUrls urls) : IRequestHandler<GetArchive, ArchiveResponse>
{
    public async Task<ArchiveResponse> Handle(GetArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var archive = await ArchiveStore.GetAsync(connection, null, request.ArchiveId, forUpdate: false, ct)
            ?? throw ApiException.NotFound($"Archive {request.ArchiveId} does not exist.");
        return new ArchiveResponse(archive.ToArchive(urls.For(archive)));
    }
}

internal sealed record ListArchives(Guid MeetingId) : IRequest<ArchivesResponse>;

internal sealed class ListArchivesHandler(NpgsqlDataSource dataSource, ArchiveUrls urls) : IRequestHandler<ListArchives, ArchivesResponse>
{
    public async Task<ArchivesResponse> Handle(ListArchives request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var archives = await ArchiveStore.ListForMeetingAsync(connection, request.MeetingId, ct);
        if (archives.Count == 0 && await MeetingStore.GetAsync(connection, null, request.MeetingId, forUpdate: false, ct) is null)
        {
            throw ApiException.NotFound($"Meeting {request.MeetingId} does not exist and has no archives.");
        }

        return new ArchivesResponse(archives.ConvertAll(a => a.ToArchive(urls.For(a))));
    }
}

internal sealed record DeleteArchive(Guid ArchiveId) : IRequest<Unit>;

internal sealed class DeleteArchiveHandler(NpgsqlDataSource dataSource, IArchiveStorage storage, TimeProvider time) : IRequestHandler<DeleteArchive, Unit>
{
    public async Task<Unit> Handle(DeleteArchive request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var archive = await ArchiveStore.GetAsync(connection, tx, request.ArchiveId, forUpdate: true, ct)
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

internal sealed record GetArchiveContent(Guid ArchiveId) : IRequest<ArchiveContent>;

internal sealed class GetArchiveContentHandler(NpgsqlDataSource dataSource, IArchiveStorage storage) : IRequestHandler<GetArchiveContent, ArchiveContent>
{
    public async Task<ArchiveContent> Handle(GetArchiveContent request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var archive = await ArchiveStore.GetAsync(connection, null, request.ArchiveId, forUpdate: false, ct)
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
