namespace Webinar.Contracts.Archives;

/// <summary>
/// Where finished archives live: the node puts a file there, the control plane serves and deletes it. Both run on
/// one machine here and share <see cref="DirectoryArchiveStorage"/>; an S3 bucket behind the same interface is the
/// production option (docs/operations.md).
/// </summary>
public interface IArchiveStorage
{
    /// <summary>Moves <paramref name="sourcePath"/> into storage as the archive's file; returns its size in bytes.</summary>
    Task<long> PutAsync(Guid archiveId, string sourcePath, string fileName, CancellationToken cancellationToken);

    /// <summary>A local path to the archive's file, or null when it is not stored (never produced, or deleted).</summary>
    string? Find(Guid archiveId, string fileName);

    /// <summary>Removes the archive's file; nothing happens when it is already gone.</summary>
    Task DeleteAsync(Guid archiveId, CancellationToken cancellationToken);
}

/// <summary>Archive storage settings, bound from <c>Archives</c> (<c>WEBINAR_ARCHIVE_DIR</c>).</summary>
public sealed class ArchiveStorageOptions
{
    public const string Section = "Archives";

    /// <summary>The directory finished archives are kept in; by default <c>$WEBINAR_DATA_DIR/archives</c>.</summary>
    public string? Directory { get; set; }

    public string EffectiveDirectory => string.IsNullOrWhiteSpace(Directory)
        ? Path.Combine(Environment.GetEnvironmentVariable("WEBINAR_DATA_DIR") is { Length: > 0 } data ? data : Path.Combine(Path.GetTempPath(), "webinar"), "archives")
        : Directory;
}

/// <summary>Archives as files in one directory: <c>{dir}/{archiveId}/{fileName}</c>.</summary>
public sealed class DirectoryArchiveStorage(string root) : IArchiveStorage
{
    public string Root { get; } = root;

    public async Task<long> PutAsync(Guid archiveId, string sourcePath, string fileName, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(Root, archiveId.ToString("D"));
        System.IO.Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, SafeName(fileName));
        try
        {
            File.Move(sourcePath, target, overwrite: true);
        }
        catch (IOException)
        {
            // Another file system: copy, then remove the source.
            await using (var source = File.OpenRead(sourcePath))
            await using (var destination = File.Create(target))
            {
                await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            }

            File.Delete(sourcePath);
        }

        return new FileInfo(target).Length;
    }

    public string? Find(Guid archiveId, string fileName)
    {
        var path = Path.Combine(Root, archiveId.ToString("D"), SafeName(fileName));
        return File.Exists(path) ? path : null;
    }

    public Task DeleteAsync(Guid archiveId, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(Root, archiveId.ToString("D"));
        if (System.IO.Directory.Exists(dir))
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string SafeName(string fileName) => Path.GetFileName(fileName) is { Length: > 0 } name ? name : "archive";
}
