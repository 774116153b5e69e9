using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

/// <summary>
/// Finds which kinds an SDP offer wants to send: audio/video m-sections whose direction is sendonly or sendrecv
/// (sendrecv when no direction attribute is present, RFC 8866 6.7) and that are not disabled (port 0).
/// A coarse, allocation-light scan of the text; the media plane parses the offer properly.
/// </summary>
internal static class OfferInspector
{
    public static MediaKinds SendKinds(string sdp)
    {
        var result = MediaKinds.None;
        var current = MediaKinds.None;
        var sends = false;
        var inSection = false;
        foreach (var rawLine in sdp.AsSpan().EnumerateLines())
        {
            var line = rawLine.TrimEnd();
            if (line.StartsWith("m="))
            {
                if (inSection && sends)
                {
                    result |= current;
                }

                inSection = true;
                sends = true;
                current = line.StartsWith("m=audio ") ? MediaKinds.Audio : line.StartsWith("m=video ") ? MediaKinds.Video : MediaKinds.None;
                var port = line.Length > 8 ? line[8..] : default;
                if (current != MediaKinds.None && port.StartsWith("0 "))
                {
                    current = MediaKinds.None;
                }
            }
            else if (inSection && (line.SequenceEqual("a=recvonly") || line.SequenceEqual("a=inactive")))
            {
                sends = false;
            }
        }

        if (inSection && sends)
        {
            result |= current;
        }

        return result;
    }
}
