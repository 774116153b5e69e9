using System.Buffers.Binary;

namespace Webinar.Media.Srtp;

/// <summary>
/// One direction of SRTP and SRTCP (RFC 3711, RFC 7714) for any number of SSRCs: a sending session only protects,
/// a receiving session only unprotects. Keys come from the DTLS-SRTP exporter. Packets are transformed in place;
/// nothing is allocated per packet except the first time an SSRC is seen. Not thread-safe: use from one thread at a
/// time. Bad input always yields a non-<see cref="SrtpResult.Ok"/> result, never an exception.
/// </summary>
public sealed class SrtpSession : IDisposable
{
    /// <summary>The largest number of bytes any profile appends to a packet (GCM SRTCP: 16-byte tag + 4-byte index).</summary>
    public const int MaxOverhead = 20;

    private const int RtpFixedHeaderLength = 12;
    private const int RtcpHeaderLength = 8;
    private const uint MaxRtcpIndex = 0x7FFF_FFFF;

    private readonly SrtpTransform _transform;
    private readonly bool _rtcpIndexAfterTag;
    private readonly Dictionary<uint, SrtpStreamState> _streams = new();
    private int _maxStreams = int.MaxValue;
    private long _uses;

    public SrtpSession(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
        : this(profile, SrtpKeyDerivation.Derive(profile, masterKey, masterSalt))
    {
    }

    internal SrtpSession(SrtpProfile profile, SrtpSessionKeys sessionKeys)
    {
        Profile = profile;
        _transform = profile switch
        {
            SrtpProfile.Aes128CmHmacSha1_80 => new AesCmHmacSha1Transform(sessionKeys),
            SrtpProfile.AeadAes128Gcm => new AesGcmTransform(sessionKeys),
            _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unsupported SRTP profile."),
        };
        _rtcpIndexAfterTag = profile == SrtpProfile.AeadAes128Gcm; // RFC 7714 §9.1 vs RFC 3711 §3.4 layout
    }

    public SrtpProfile Profile { get; }

    /// <summary>
    /// SSRCs this session keeps state for. A receiving session's peer picks the SSRCs, so a bound keeps one peer from
    /// growing it without limit: a packet of a new SSRC beyond it makes the least recently used stream forgotten
    /// (its replay window and roll-over counter start afresh if it comes back). Unbounded by default.
    /// </summary>
    public int MaxStreams
    {
        get => _maxStreams;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxStreams = value;
        }
    }

    /// <summary>SSRC states forgotten to stay within <see cref="MaxStreams"/>.</summary>
    public long StreamsEvicted { get; private set; }

    /// <summary>SSRCs the session holds state for now.</summary>
    public int StreamCount => _streams.Count;

    /// <summary>Bytes <see cref="ProtectRtp"/> appends.</summary>
    public int RtpOverhead => _transform.RtpTagLength;

    /// <summary>Bytes <see cref="ProtectRtcp"/> appends.</summary>
    public int RtcpOverhead => _transform.RtcpTagLength + 4;

    /// <summary>
    /// Encrypts and authenticates the RTP packet in <c>buffer[..length]</c> in place and appends the tag;
    /// <paramref name="buffer"/> must have <see cref="RtpOverhead"/> spare bytes after <paramref name="length"/>.
    /// </summary>
    public SrtpResult ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        SrtpResult parsed = ParseRtpHeader(buffer, length, out int headerLength);
        if (parsed != SrtpResult.Ok)
        {
            return parsed;
        }

        if (buffer.Length - length < _transform.RtpTagLength)
        {
            return SrtpResult.BufferTooSmall;
        }

        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(8));
        ushort sequence = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
        SrtpStreamState stream = GetOrAddStream(ssrc);
        ulong index = stream.EstimateIndex(sequence);
        _transform.ProtectRtp(buffer, headerLength, length, ssrc, index);
        stream.AdvanceTo(index);
        protectedLength = length + _transform.RtpTagLength;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Checks replay, authenticates and decrypts the SRTP packet in <c>buffer[..length]</c> in place;
    /// the plain RTP packet is <c>buffer[..plainLength]</c>.
    /// </summary>
    public SrtpResult UnprotectRtp(Span<byte> buffer, int length, out int plainLength)
    {
        plainLength = 0;
        if (length < 0 || length > buffer.Length)
        {
            return SrtpResult.Malformed;
        }

        int tagLength = _transform.RtpTagLength;
        if (length < RtpFixedHeaderLength + tagLength)
        {
            return SrtpResult.TooShort;
        }

        int bodyLength = length - tagLength;
        SrtpResult parsed = ParseRtpHeader(buffer, bodyLength, out int headerLength);
        if (parsed != SrtpResult.Ok)
        {
            return parsed;
        }

        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(8));
        ushort sequence = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
        _streams.TryGetValue(ssrc, out SrtpStreamState? stream);
        ulong index = stream?.EstimateIndex(sequence) ?? sequence;
        if (stream is not null)
        {
            SrtpResult replay = stream.RtpWindow.Check(index);
            if (replay != SrtpResult.Ok)
            {
                return replay;
            }
        }

        if (!_transform.UnprotectRtp(buffer, headerLength, bodyLength, ssrc, index))
        {
            return SrtpResult.AuthenticationFailed;
        }

        stream = Touch(stream) ?? GetOrAddStream(ssrc);
        stream.RtpWindow.Accept(index);
        stream.AdvanceTo(index);
        plainLength = bodyLength;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Encrypts the compound RTCP packet in <c>buffer[..length]</c> in place and appends E||SRTCP index and the tag;
    /// <paramref name="buffer"/> must have <see cref="RtcpOverhead"/> spare bytes.
    /// </summary>
    public SrtpResult ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        SrtpResult parsed = ParseRtcpHeader(buffer, length);
        if (parsed != SrtpResult.Ok)
        {
            return parsed;
        }

        if (buffer.Length - length < RtcpOverhead)
        {
            return SrtpResult.BufferTooSmall;
        }

        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(4));
        SrtpStreamState stream = GetOrAddStream(ssrc);
        uint index = stream.NextRtcpIndex;
        stream.NextRtcpIndex = index >= MaxRtcpIndex ? 0 : index + 1;
        _transform.ProtectRtcp(buffer, length, ssrc, index);
        protectedLength = length + RtcpOverhead;
        return SrtpResult.Ok;
    }

    /// <summary>Checks replay, authenticates and decrypts an SRTCP packet in place.</summary>
    public SrtpResult UnprotectRtcp(Span<byte> buffer, int length, out int plainLength)
    {
        plainLength = 0;
        if (length < 0 || length > buffer.Length)
        {
            return SrtpResult.Malformed;
        }

        if (length < RtcpHeaderLength + RtcpOverhead)
        {
            return SrtpResult.TooShort;
        }

        int bodyLength = length - RtcpOverhead;
        SrtpResult parsed = ParseRtcpHeader(buffer, bodyLength);
        if (parsed != SrtpResult.Ok)
        {
            return parsed;
        }

        int trailerOffset = _rtcpIndexAfterTag ? length - 4 : bodyLength;
        uint trailer = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(trailerOffset));
        bool encrypted = (trailer & 0x8000_0000u) != 0;
        uint index = trailer & MaxRtcpIndex;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(4));
        _streams.TryGetValue(ssrc, out SrtpStreamState? stream);
        if (stream is not null)
        {
            SrtpResult replay = stream.RtcpWindow.Check(index);
            if (replay != SrtpResult.Ok)
            {
                return replay;
            }
        }

        if (!_transform.UnprotectRtcp(buffer, length, ssrc, index, encrypted))
        {
            return SrtpResult.AuthenticationFailed;
        }

        stream = Touch(stream) ?? GetOrAddStream(ssrc);
        stream.RtcpWindow.Accept(index);
        plainLength = bodyLength;
        return SrtpResult.Ok;
    }

    public void Dispose() => _transform.Dispose();

    /// <summary>Test hook: the roll-over counter of the highest RTP index seen for <paramref name="ssrc"/>.</summary>
    internal uint GetRolloverCounter(uint ssrc) =>
        _streams.TryGetValue(ssrc, out SrtpStreamState? stream) ? stream.RolloverCounter : 0;

    /// <summary>Test hook: start a sending stream at a given roll-over counter and sequence number.</summary>
    internal void SetRtpState(uint ssrc, uint rolloverCounter, ushort highestSequence)
    {
        SrtpStreamState stream = GetOrAddStream(ssrc);
        stream.HasRtp = true;
        stream.RolloverCounter = rolloverCounter;
        stream.HighestSequence = highestSequence;
    }

    /// <summary>Test hook: the SRTCP index the next protected packet of <paramref name="ssrc"/> gets.</summary>
    internal void SetNextRtcpIndex(uint ssrc, uint index) => GetOrAddStream(ssrc).NextRtcpIndex = index & MaxRtcpIndex;

    private static SrtpResult ParseRtpHeader(ReadOnlySpan<byte> buffer, int length, out int headerLength)
    {
        headerLength = 0;
        if (length < 0 || length > buffer.Length)
        {
            return SrtpResult.Malformed;
        }

        if (length < RtpFixedHeaderLength)
        {
            return SrtpResult.TooShort;
        }

        byte first = buffer[0];
        if ((first >> 6) != 2)
        {
            return SrtpResult.Malformed;
        }

        int size = RtpFixedHeaderLength + (4 * (first & 0x0F));
        if ((first & 0x10) != 0)
        {
            if (size + 4 > length)
            {
                return SrtpResult.Malformed;
            }

            size += 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(size + 2)));
        }

        if (size > length)
        {
            return SrtpResult.Malformed;
        }

        headerLength = size;
        return SrtpResult.Ok;
    }

    private static SrtpResult ParseRtcpHeader(ReadOnlySpan<byte> buffer, int length)
    {
        if (length < 0 || length > buffer.Length)
        {
            return SrtpResult.Malformed;
        }

        if (length < RtcpHeaderLength)
        {
            return SrtpResult.TooShort;
        }

        return (buffer[0] >> 6) == 2 ? SrtpResult.Ok : SrtpResult.Malformed;
    }

    private SrtpStreamState GetOrAddStream(uint ssrc)
    {
        if (!_streams.TryGetValue(ssrc, out SrtpStreamState? stream))
        {
            if (_streams.Count >= _maxStreams)
            {
                EvictLeastRecentlyUsed();
            }

            stream = new SrtpStreamState();
            _streams.Add(ssrc, stream);
        }

        stream.LastUsed = ++_uses;
        return stream;
    }

    private SrtpStreamState? Touch(SrtpStreamState? stream)
    {
        if (stream is not null)
        {
            stream.LastUsed = ++_uses;
        }

        return stream;
    }

    /// <summary>Only when a new SSRC arrives at the bound: a scan of at most <see cref="MaxStreams"/> entries.</summary>
    private void EvictLeastRecentlyUsed()
    {
        uint oldest = 0;
        long oldestUse = long.MaxValue;
        foreach (KeyValuePair<uint, SrtpStreamState> entry in _streams)
        {
            if (entry.Value.LastUsed < oldestUse)
            {
                oldestUse = entry.Value.LastUsed;
                oldest = entry.Key;
            }
        }

        _streams.Remove(oldest);
        StreamsEvicted++;
    }
}
