using Webinar.Media.Sdp;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Media;

/// <summary>
/// What bounds one connection's negotiation and transport: the SDP limits an offer is parsed with, the tracks it may
/// publish, and how long its transport may take to connect and stay silent once connected. From <see cref="SfuOptions"/>.
/// </summary>
internal sealed record NegotiationSettings(SdpLimits OfferLimits, int MaxTracksPerPublisher, TimeSpan ConnectTimeout, TimeSpan SilenceTimeout)
{
    public static NegotiationSettings Default { get; } = From(new SfuOptions());

    public static NegotiationSettings From(SfuOptions options) => new(
        new SdpLimits(options.MaxMediaSectionsPerOffer, options.MaxSsrcLinesPerOffer),
        options.MaxTracksPerPublisher,
        options.MediaConnectTimeout,
        options.MediaSilenceTimeout);
}
