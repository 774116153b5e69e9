using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

/// <summary>
/// Finds which kinds an SDP offer wants to send: audio/video m-sections whose direction is sendonly or sendrecv
/// (sendrecv when no direction attribute is present, RFC 8866 6.7) and that are not disabled (port 0 without
/// a=bundle-only: a max-bundle offer marks every section after the first port 0 + bundle-only, RFC 8843 §6).
/// A coarse, allocation-light scan of the text; the media plane parses the offer properly.
/// </summary>
internal static class OfferInspector
{
    public static MediaKinds SendKinds(string sdp)
    {
        var result = MediaKinds.None;
        var section = new Section();
        foreach (var rawLine in sdp.AsSpan().EnumerateLines())
        {
            var line = rawLine.TrimEnd();
            if (line.StartsWith("m="))
            {
                result |= section.Sends();
                section = new Section
                {
                    Kind = line.StartsWith("m=audio ") ? MediaKinds.Audio : line.StartsWith("m=video ") ? MediaKinds.Video : MediaKinds.None,
                    PortZero = line.Length > 8 && line[8..].StartsWith("0 "),
                    Sending = true,
                };
            }
            else if (line.SequenceEqual("a=recvonly") || line.SequenceEqual("a=inactive"))
            {
                section.Sending = false;
            }
            else if (line.SequenceEqual("a=bundle-only"))
            {
                section.BundleOnly = true;
            }
        }

        return result | section.Sends();
    }

    private struct Section
    {
        public MediaKinds Kind;
        public bool PortZero;
        public bool BundleOnly;
        public bool Sending;

        public readonly MediaKinds Sends() => Sending && (!PortZero || BundleOnly) ? Kind : MediaKinds.None;
    }
}
