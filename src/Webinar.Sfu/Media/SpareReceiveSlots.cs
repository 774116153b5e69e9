using Webinar.Media.Sdp;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// A pre-negotiated receive slot: a recvonly m-line of a subscriber that carries nothing yet, answered with an SSRC the
/// node reserved for it, so a stream can start on it without a new offer. <paramref name="Answered"/> is its m-line in
/// the answer the client holds (codec and header extension ids for the consumer). <paramref name="RtxSsrc"/> is the
/// retransmission SSRC reserved with it (video; written in the answer when the line negotiated rtx), else 0.
/// </summary>
internal sealed record SpareSlot(string Mid, MediaKind Kind, uint Ssrc, MediaDescription Answered, uint RtxSsrc = 0);

/// <summary>
/// The spare receive slots of one pre-negotiating subscriber (docs/signaling.md, "Pre-negotiated slots"). A slot is
/// spare from the answer that reserved its SSRC until a stream is placed on it; a slot freed again (its stream ended)
/// becomes spare only in the next answer, under a new SSRC, so the subscriber never sees one SSRC restart with another
/// stream's numbering. A spare keeps its SSRC across answers. Media-loop state.
/// </summary>
internal sealed class SpareReceiveSlots
{
    private readonly List<SpareSlot> _spare = [];

    public SpareReceiveSlots(int target) => Target = target;

    /// <summary>How many spare slots of each kind the subscriber should keep.</summary>
    public int Target { get; }

    public IReadOnlyList<SpareSlot> Spare => _spare;

    /// <summary>The SSRC <paramref name="mid"/> has while it is spare in the answer the client holds; 0 when it is not spare.</summary>
    public uint SsrcOf(string mid) => SlotOf(mid)?.Ssrc ?? 0;

    /// <summary>The spare slot on <paramref name="mid"/> in the answer the client holds (its SSRCs), or null.</summary>
    public SpareSlot? SlotOf(string mid)
    {
        foreach (var slot in _spare)
        {
            if (slot.Mid == mid)
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>A new answer was applied: exactly <paramref name="slots"/> are spare now.</summary>
    public void Reset(IEnumerable<SpareSlot> slots)
    {
        _spare.Clear();
        _spare.AddRange(slots);
    }

    /// <summary>Takes the first spare slot (in m-line order) of <paramref name="kind"/> whose answer carries <paramref name="codec"/>.</summary>
    public bool TryTake(MediaKind kind, string codec, out SpareSlot slot)
    {
        for (var i = 0; i < _spare.Count; i++)
        {
            var candidate = _spare[i];
            if (candidate.Kind == kind && Carries(candidate.Answered, codec))
            {
                _spare.RemoveAt(i);
                slot = candidate;
                return true;
            }
        }

        slot = null!;
        return false;
    }

    public int Count(MediaKind kind)
    {
        var count = 0;
        foreach (var slot in _spare)
        {
            if (slot.Kind == kind)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>True when fewer than <see cref="Target"/> slots of a kind are spare: time to ask the client for more.</summary>
    public bool NeedsTopUp => Count(MediaKind.Audio) < Target || Count(MediaKind.Video) < Target;

    private static bool Carries(MediaDescription answered, string codec)
    {
        foreach (var c in answered.Codecs)
        {
            if (string.Equals(c.Name, codec, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
