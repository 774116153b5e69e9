namespace Webinar.Media.Srtp;

/// <summary>
/// Sliding replay window (RFC 3711 §3.3.2) of 128 packet indices below the highest one accepted.
/// <see cref="Check"/> before authentication, <see cref="Accept"/> only after it succeeded.
/// </summary>
internal struct SrtpReplayWindow
{
    public const int Size = 128;

    private ulong _highest;
    private ulong _low; // bit i: index (_highest - i) was seen, for i in 0..63
    private ulong _high; // bit i: index (_highest - 64 - i) was seen
    private bool _started;

    public readonly ulong Highest => _highest;

    public readonly bool Started => _started;

    public readonly SrtpResult Check(ulong index)
    {
        if (!_started || index > _highest)
        {
            return SrtpResult.Ok;
        }

        ulong delta = _highest - index;
        if (delta >= Size)
        {
            return SrtpResult.TooOld;
        }

        bool seen = delta < 64 ? ((_low >> (int)delta) & 1) != 0 : ((_high >> (int)(delta - 64)) & 1) != 0;
        return seen ? SrtpResult.Replayed : SrtpResult.Ok;
    }

    public void Accept(ulong index)
    {
        if (!_started)
        {
            _started = true;
            _highest = index;
            _low = 1;
            _high = 0;
            return;
        }

        if (index > _highest)
        {
            ulong shift = index - _highest;
            if (shift >= Size)
            {
                _low = 0;
                _high = 0;
            }
            else if (shift >= 64)
            {
                _high = _low << (int)(shift - 64);
                _low = 0;
            }
            else
            {
                _high = (_high << (int)shift) | (_low >> (int)(64 - shift));
                _low <<= (int)shift;
            }

            _low |= 1;
            _highest = index;
            return;
        }

        ulong delta = _highest - index;
        if (delta < 64)
        {
            _low |= 1ul << (int)delta;
        }
        else if (delta < Size)
        {
            _high |= 1ul << (int)(delta - 64);
        }
    }
}
