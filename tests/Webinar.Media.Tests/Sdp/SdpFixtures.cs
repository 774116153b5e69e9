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

    /// <summary>
    /// GStreamer webrtcbin 1.22 (Debian 12) with bundle-policy=max-bundle, videotestsrc→vp8enc and audiotestsrc→opusenc,
    /// offered before the encoders made a frame: the audio section is port 0 + a=bundle-only, and no a=ssrc anywhere.
    /// </summary>
    public static string WebRtcBinPublishOffer => Read("webrtcbin-1.22-publish-offer.sdp");

    /// <summary>webrtcbin 1.22 with max-bundle and two recvonly transceivers (Opus without a channel count, VP8).</summary>
    public static string WebRtcBinReceiveOffer => Read("webrtcbin-1.22-receive-offer.sdp");

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
