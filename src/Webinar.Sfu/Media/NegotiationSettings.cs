using Webinar.Media.Sdp;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Media;

/// <summary>
/// What bounds one connection's negotiation and transport: the SDP limits an offer is parsed with, the tracks it may
/// publish, and how long its transport may take to connect and stay silent once connected. From <see cref="SfuOptions"/>.
/// </summary>
internal sealed record NegotiationSettings(SdpLimits OfferLimits, int MaxTracksPerPublisher, TimeSpan ConnectTimeout, TimeSpan SilenceTimeout)
{
    /// <summary>Spare receive slots per kind a pre-negotiating client keeps.</summary>
    public int SpareReceiveSlots { get; init; } = 2;

    /// <summary>Delay before the node asks for new spare slots after one was used.</summary>
    public TimeSpan SpareSlotTopUpDelay { get; init; } = TimeSpan.FromSeconds(1);

    public static NegotiationSettings Default { get; } = From(new SfuOptions());

    /// <summary>Spare receive slots per kind, within 0–8 whatever is configured.</summary>
    public static int SpareSlots(SfuOptions options) => Math.Clamp(options.SpareReceiveSlots, 0, 8);

    public static NegotiationSettings From(SfuOptions options) => new(
        new SdpLimits(options.MaxMediaSectionsPerOffer, options.MaxSsrcLinesPerOffer),
        options.MaxTracksPerPublisher,
        options.MediaConnectTimeout,
        options.MediaSilenceTimeout)
    {
        SpareReceiveSlots = SpareSlots(options),
        SpareSlotTopUpDelay = options.SpareSlotTopUpDelay,
    };
}
