using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// A send m-line the client negotiated, answered recvonly: what a producer on it would be (its kind, the SSRC the offer
/// named or 0, the codec the answer chose, the publisher's header extension ids). A pre-negotiating replica attendee
/// offers these at join; they carry nothing until it is promoted, when each slot of a kind it may send becomes a
/// producer at once (no re-offer) and its SSRC is learnt from the first packet if the offer named none.
/// <see cref="Rids"/> are its simulcast encodings when the answer accepted them (none: one stream).
/// <see cref="RtxPayloadType"/> is the rtx payload type the answer accepted for its codec (-1: none) and
/// <see cref="RtxSsrc"/> the retransmission SSRC the offer's FID group pairs with <see cref="Ssrc"/> (0: none named).
/// </summary>
internal sealed record SendSlot(
    string Mid, MediaKind Kind, uint Ssrc, SourceCodec Codec, IReadOnlyDictionary<string, byte> ExtensionIds, IReadOnlyList<string> Rids,
    uint RtxSsrc = 0, int RtxPayloadType = -1);
