namespace Webinar.Media.Rtcp;

/// <summary>How a keyframe is asked for.</summary>
public enum KeyframeRequestKind
{
    PictureLossIndication,
    FullIntraRequest,
}

/// <summary>
/// Rate-limits keyframe requests toward producers: at most one request per SSRC per interval (500 ms by default).
/// Requests from many consumers inside the interval coalesce into one, sent when the interval has passed
/// (<see cref="CollectDue"/>). Thread-safe: consumers join on signalling threads; requests are rare, so a lock is fine.
/// </summary>
public sealed class KeyframeRequester
{
    private readonly TimeProvider _time;
    private readonly long _intervalTicks;
    private readonly Dictionary<uint, SourceState> _sources = [];
    private readonly Lock _lock = new();

    public KeyframeRequester(TimeProvider time, TimeSpan? minimumInterval = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _intervalTicks = (long)((minimumInterval ?? TimeSpan.FromMilliseconds(500)).TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>
    /// Asks for a keyframe from <paramref name="mediaSsrc"/>. True means send one now; false means one was sent
    /// recently and this request is coalesced into the next <see cref="CollectDue"/>.
    /// </summary>
    public bool Request(uint mediaSsrc)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            ref var state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_sources, mediaSsrc, out _);
            if (!state.HasSent || now - state.LastSent >= _intervalTicks)
            {
                state.HasSent = true;
                state.LastSent = now;
                state.Pending = false;
                return true;
            }

            state.Pending = true;
            return false;
        }
    }

    /// <summary>Writes the SSRCs whose coalesced request may now be sent, marking them sent; returns the count.</summary>
    public int CollectDue(Span<uint> destination)
    {
        long now = _time.GetTimestamp();
        int written = 0;
        lock (_lock)
        {
            foreach (var (ssrc, state) in _sources)
            {
                if (written == destination.Length)
                {
                    break;
                }

                if (state.Pending && now - state.LastSent >= _intervalTicks)
                {
                    destination[written++] = ssrc;
                }
            }

            for (int i = 0; i < written; i++)
            {
                ref var state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_sources, destination[i]);
                state.LastSent = now;
                state.Pending = false;
            }
        }

        return written;
    }

    /// <summary>Forgets a producer that went away.</summary>
    public void Remove(uint mediaSsrc)
    {
        lock (_lock)
        {
            _sources.Remove(mediaSsrc);
        }
    }

    /// <summary>Writes the request packet; FIR carries a per-SSRC command sequence number that increases each time.</summary>
    public bool TryWriteRequest(Span<byte> destination, uint senderSsrc, uint mediaSsrc, KeyframeRequestKind kind, out int length)
    {
        if (kind == KeyframeRequestKind.PictureLossIndication)
        {
            return RtcpPictureLossIndication.TryWrite(destination, senderSsrc, mediaSsrc, out length);
        }

        byte sequenceNumber;
        lock (_lock)
        {
            ref var state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_sources, mediaSsrc, out _);
            sequenceNumber = state.FirSequenceNumber++;
        }

        return RtcpFullIntraRequest.TryWrite(destination, senderSsrc, mediaSsrc, sequenceNumber, out length);
    }

    private struct SourceState
    {
        public bool HasSent;
        public long LastSent;
        public bool Pending;
        public byte FirSequenceNumber;
    }
}
