namespace Webinar.Connector.Codecs;

/// <summary>
/// The VP8 RTP payload format (RFC 7741): a 4-byte descriptor (X=1, S on the first packet of a frame, PID 0; I=1 and a
/// 15-bit picture id) before each fragment of a compressed frame, the marker bit on the frame's last packet.
/// </summary>
internal static class Vp8Rtp
{
    public const int DescriptorLength = 4;

    /// <summary>Writes the descriptor for one fragment.</summary>
    public static void WriteDescriptor(Span<byte> destination, bool startOfFrame, ushort pictureId)
    {
        destination[0] = (byte)(0x80 | (startOfFrame ? 0x10 : 0));
        destination[1] = 0x80;
        destination[2] = (byte)(0x80 | ((pictureId >> 8) & 0x7F));
        destination[3] = (byte)pictureId;
    }

    /// <summary>
    /// Reads a payload descriptor (any of RFC 7741's optional fields); false when the payload is too short.
    /// <paramref name="startOfFrame"/> is S=1 with partition index 0.
    /// </summary>
    public static bool TryReadDescriptor(ReadOnlySpan<byte> payload, out int headerLength, out bool startOfFrame)
    {
        headerLength = 0;
        startOfFrame = false;
        if (payload.Length < 1)
        {
            return false;
        }

        int offset = 1;
        byte first = payload[0];
        if ((first & 0x80) != 0)
        {
            if (payload.Length < 2)
            {
                return false;
            }

            byte extension = payload[1];
            offset = 2;
            if ((extension & 0x80) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                offset += (payload[offset] & 0x80) != 0 ? 2 : 1;
            }

            if ((extension & 0x40) != 0)
            {
                offset++;
            }

            if ((extension & 0x30) != 0)
            {
                offset++;
            }
        }

        if (payload.Length <= offset)
        {
            return false;
        }

        headerLength = offset;
        startOfFrame = (first & 0x10) != 0 && (first & 0x07) == 0;
        return true;
    }

    /// <summary>True when a frame's first payload byte says key frame (RFC 6386 §9.1: bit 0 of the frame tag is 0).</summary>
    public static bool IsKeyframe(ReadOnlySpan<byte> frame) => frame.Length > 0 && (frame[0] & 0x01) == 0;
}

/// <summary>
/// Reassembles VP8 frames from RTP packets of one SSRC. Packets arrive nearly in order on this path (a NACKed one may
/// come late); a frame whose sequence numbers have a hole is dropped, and then every frame until the next key frame
/// (the caller asks for one). One receiving worker.
/// </summary>
internal sealed class Vp8Depacketizer
{
    private const int MaxFrameBytes = 4 << 20;
    private byte[] _frame = new byte[256 * 1024];
    private int _length;
    private bool _assembling;
    private uint _timestamp;
    private ushort _expected;
    private bool _needKeyframe = true;
    private bool _started;

    /// <summary>Frames dropped because a packet was missing or a frame came before the key frame it needs.</summary>
    public long Dropped { get; private set; }

    /// <summary>True when a key frame is needed to carry on (a loss, or nothing decoded yet).</summary>
    public bool NeedsKeyframe => _needKeyframe;

    /// <summary>Feeds one packet's payload; returns true with a complete frame in <paramref name="frame"/> (valid until the next call).</summary>
    public bool TryPush(ReadOnlySpan<byte> payload, ushort sequenceNumber, uint timestamp, bool marker, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        if (!Vp8Rtp.TryReadDescriptor(payload, out int headerLength, out bool start))
        {
            return false;
        }

        var data = payload[headerLength..];
        bool inSequence = !_started || sequenceNumber == _expected;
        if (!inSequence && (ushort)(sequenceNumber - _expected) >= 0x8000)
        {
            return false; // late or duplicate: its frame is already complete or dropped
        }

        _started = true;
        if (start)
        {
            if (_assembling || !inSequence)
            {
                // The previous frame's tail, or whole frames, were lost.
                Dropped += _assembling ? 1 : 0;
                _needKeyframe = true;
            }

            _assembling = true;
            _timestamp = timestamp;
            _length = 0;
        }
        else if (!_assembling || timestamp != _timestamp || !inSequence)
        {
            if (_assembling || timestamp != _timestamp)
            {
                Dropped++; // once per frame: this one lost its start or a middle packet
            }

            _timestamp = timestamp;
            _needKeyframe = true;
            _assembling = false;
            _expected = (ushort)(sequenceNumber + 1);
            return false;
        }

        _expected = (ushort)(sequenceNumber + 1);
        if (_length + data.Length > MaxFrameBytes)
        {
            _assembling = false;
            Dropped++;
            return false;
        }

        if (_length + data.Length > _frame.Length)
        {
            Array.Resize(ref _frame, Math.Max(_frame.Length * 2, _length + data.Length));
        }

        data.CopyTo(_frame.AsSpan(_length));
        _length += data.Length;
        if (!marker)
        {
            return false;
        }

        _assembling = false;
        frame = _frame.AsSpan(0, _length);
        if (_needKeyframe)
        {
            if (!Vp8Rtp.IsKeyframe(frame))
            {
                Dropped++;
                return false;
            }

            _needKeyframe = false;
        }

        return true;
    }

    /// <summary>
    /// A padding-only packet (the sender probing the bandwidth) took <paramref name="sequenceNumber"/>: it carries no
    /// media and is no loss, so the next packet is still in sequence.
    /// </summary>
    public void OnPadding(ushort sequenceNumber)
    {
        if (_started && sequenceNumber == _expected)
        {
            _expected = (ushort)(sequenceNumber + 1);
        }
    }

    /// <summary>The decoder refused a frame: wait for the next key frame.</summary>
    public void Resynchronize() => _needKeyframe = true;
}
