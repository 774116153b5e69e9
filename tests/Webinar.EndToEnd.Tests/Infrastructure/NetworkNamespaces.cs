namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>What every fixture that builds network namespaces needs to take them down again.</summary>
internal static class NetworkNamespaces
{
    /// <summary>
    /// Ends whatever still runs in <paramref name="name"/> (a namespace of ours: a broker's epmd, a browser) and
    /// deletes it; a namespace that is gone already is no error.
    /// </summary>
    public static async Task RemoveAsync(string name)
    {
        try
        {
            var pids = await RepositoryTools.RunAsync("ip", ["netns", "pids", name], null);
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await RepositoryTools.RunAsync("kill", ["-9", pid], null);
            }
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        try
        {
            await RepositoryTools.RunAsync("ip", ["netns", "del", name], null);
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }
    }
}
