namespace Webinar.TestSupport;

/// <summary>The checkout the tests run from: the folder above the test binaries that holds Webinar.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Webinar.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Webinar.sln not found above " + AppContext.BaseDirectory);
    }
}
