namespace Webinar.Connector.Media;

/// <summary>
/// Converts interleaved 16-bit PCM between sample rates (linear interpolation, continuous across calls) and between
/// mono and stereo (a stereo pair is averaged to mono; mono is copied to both sides). One instance per direction of
/// one stream; not thread safe.
/// </summary>
public sealed class AudioResampler
{
    private readonly int _inRate;
    private readonly int _outRate;
    private readonly int _inChannels;
    private readonly int _outChannels;
    private readonly long _step;
    private long _position;
    private short _lastLeft;
    private short _lastRight;

    public AudioResampler(int inRate, int inChannels, int outRate, int outChannels)
    {
        MediaRules.CheckSampleRate(inRate, nameof(inRate));
        MediaRules.CheckSampleRate(outRate, nameof(outRate));
        MediaRules.CheckChannels(inChannels, nameof(inChannels));
        MediaRules.CheckChannels(outChannels, nameof(outChannels));
        (_inRate, _outRate, _inChannels, _outChannels) = (inRate, outRate, inChannels, outChannels);
        _step = ((long)inRate << 32) / outRate;
    }

    /// <summary>The most output frames <see cref="Process"/> can write for <paramref name="inputFrames"/> input frames.</summary>
    public int MaxOutputFrames(int inputFrames) => (int)(((long)inputFrames * _outRate / _inRate) + 2);

    /// <summary>Converts <paramref name="inputFrames"/> frames; returns the output frames written.</summary>
    public int Process(ReadOnlySpan<short> input, int inputFrames, Span<short> output)
    {
        if (_inRate == _outRate)
        {
            for (int i = 0; i < inputFrames; i++)
            {
                Read(input, i, out short left, out short right);
                Write(output, i, left, right);
            }

            return inputFrames;
        }

        // _position is the fractional input index (32.32) of the next output frame, where index -1 is the previous
        // call's last frame, so interpolation runs across call boundaries.
        int written = 0;
        long end = (long)inputFrames << 32;
        while (_position < end)
        {
            long index = (_position >> 32) - 1;
            double fraction = (_position & 0xFFFFFFFFL) / 4294967296.0;
            short l0, r0;
            if (index < 0)
            {
                (l0, r0) = (_lastLeft, _lastRight);
            }
            else
            {
                Read(input, (int)index, out l0, out r0);
            }

            Read(input, (int)index + 1, out short l1, out short r1);
            Write(output, written++, (short)(l0 + ((l1 - l0) * fraction)), (short)(r0 + ((r1 - r0) * fraction)));
            _position += _step;
        }

        _position -= end;
        Read(input, inputFrames - 1, out _lastLeft, out _lastRight);
        return written;
    }

    private void Read(ReadOnlySpan<short> input, int frame, out short left, out short right)
    {
        if (_inChannels == 1)
        {
            left = right = input[frame];
        }
        else
        {
            left = input[frame * 2];
            right = input[(frame * 2) + 1];
        }
    }

    private void Write(Span<short> output, int frame, short left, short right)
    {
        if (_outChannels == 1)
        {
            output[frame] = (short)((left + right) / 2);
        }
        else
        {
            output[frame * 2] = left;
            output[(frame * 2) + 1] = right;
        }
    }
}
