namespace Webinar.Media.Tests.Sdp;

/// <summary>
/// Real SDP captured from browsers. Read from the source tree (found by walking up from the test binaries) so the
/// fixtures need no project-file entry.
/// </summary>
internal static class SdpFixtures
{
    /// <summary>
    /// Chromium 156 (headless, Debian) offer for addTransceiver(audio, sendrecv) + addTransceiver(video, sendrecv)
    /// + addTransceiver('video', recvonly), captured after ICE gathering.
    /// </summary>
    public static string ChromiumOffer => Read("chromium-156-offer.sdp");

    private static string Read(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "Webinar.Media.Tests", "Sdp", "Fixtures", name);
            if (File.Exists(candidate))
            {
                return File.ReadAllText(candidate);
            }
        }

        throw new FileNotFoundException($"SDP fixture {name} not found above {AppContext.BaseDirectory}.");
    }
}
