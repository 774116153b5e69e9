using System.Buffers.Binary;
using Webinar.Media.Rtp;

namespace Webinar.Sfu.Archives;

/// <summary>
/// Turns one track's RTP into a file without transcoding, as janus-pp-rec does: the payloads are depacketized into
/// the codec's frames and written to a container ffmpeg reads (IVF for VP8, Ogg for Opus). Writer thread only.
/// </summary>
internal abstract class TrackFileWriter : IDisposable
{
    private readonly Stream _file;
    private long _extendedTimestamp;
    private uint _lastTimestamp;
    private bool _started;

    protected TrackFileWriter(Stream file) => _file = file;

    /// <summary>Frames written so far.</summary>
    public long Frames { get; protected set; }

    /// <summary>Media time of the last frame written, in seconds from the track's first frame.</summary>
    public double LastFrameSeconds { get; private set; }

    protected abstract int ClockRate { get; }

    protected Stream File => _file;

    /// <summary>Takes one plain RTP packet of the track (header included).</summary>
    public void Write(Span<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out var view) || view.Payload.IsEmpty)
        {
            return;
        }

        OnPacket(view.SequenceNumber, view.Timestamp, view.Marker, view.Payload);
    }

    protected abstract void OnPacket(ushort sequence, uint timestamp, bool marker, ReadOnlySpan<byte> payload);

    /// <summary>The RTP timestamp as a 64-bit count from the track's first packet (wraparound unfolded).</summary>
    protected long Unwrap(uint timestamp)
    {
        if (!_started)
        {
            _started = true;
            _lastTimestamp = timestamp;
            return 0;
        }

        _extendedTimestamp += unchecked((int)(timestamp - _lastTimestamp));
        _lastTimestamp = timestamp;
        return _extendedTimestamp;
    }

    protected void Advanced(long ticks) => LastFrameSeconds = Math.Max(LastFrameSeconds, ticks / (double)ClockRate);

    /// <summary>Writes what is still held and the container's closing fields.</summary>
    protected abstract void Finish();

    /// <summary>The container's header fields as they stand now (sizes, counts), written in place.</summary>
    protected virtual void UpdateHeader()
    {
    }

    /// <summary>
    /// Hands everything written so far to the operating system with a current header, so a node killed now leaves a
    /// file ffmpeg can read up to this point (a partial archive).
    /// </summary>
    public void Checkpoint()
    {
        UpdateHeader();
        _file.Flush();
    }

    public void Dispose()
    {
        try
        {
            Finish();
            _file.Flush();
        }
        finally
        {
            _file.Dispose();
        }
    }
}

/// <summary>
/// VP8 (RFC 7741) into IVF: packets of one RTP timestamp form a frame, which starts at S=1/PID=0 and ends at the
/// marker bit. A frame with a hole is dropped, and so is every frame after it until the next keyframe.
/// </summary>
internal sealed class Vp8IvfWriter : TrackFileWriter
{
    private const int HeaderLength = 32;
    private readonly MemoryStream _frame = new();
    private bool _inFrame;
    private bool _needKeyframe = true;
    private ushort _nextSequence;
    private long _frameTicks;
    private bool _sizeKnown;

    public Vp8IvfWriter(Stream file)
        : base(file)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        header.Clear();
        "DKIF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], HeaderLength);
        "VP80"u8.CopyTo(header[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 90000);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        file.Write(header);
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    protected override int ClockRate => 90000;

    protected override void OnPacket(ushort sequence, uint timestamp, bool marker, ReadOnlySpan<byte> payload)
    {
        if (!TrySkipDescriptor(payload, out var start, out var offset))
        {
            return;
        }

        var ticks = Unwrap(timestamp);
        if (start)
        {
            // A new frame; an unfinished one before it lost its last packet.
            _frame.SetLength(0);
            _inFrame = true;
            _frameTicks = ticks;
        }
        else if (!_inFrame || sequence != _nextSequence || ticks != _frameTicks)
        {
            _inFrame = false;
            _needKeyframe = true;
            return;
        }

        _nextSequence = unchecked((ushort)(sequence + 1));
        _frame.Write(payload[offset..]);
        if (!marker)
        {
            return;
        }

        _inFrame = false;
        var frame = _frame.GetBuffer().AsSpan(0, (int)_frame.Length);
        var keyframe = frame.Length >= 10 && (frame[0] & 0x01) == 0;
        if (_needKeyframe && !keyframe)
        {
            return;
        }

        _needKeyframe = false;
        if (keyframe && !_sizeKnown && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a)
        {
            Width = BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]) & 0x3FFF;
            Height = BinaryPrimitives.ReadUInt16LittleEndian(frame[8..]) & 0x3FFF;
            _sizeKnown = true;
        }

        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)frame.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[4..], _frameTicks);
        File.Write(header);
        File.Write(frame);
        Frames++;
        Advanced(_frameTicks);
    }

    /// <summary>Parses the VP8 payload descriptor: where the VP8 data begins and whether this packet starts a frame.</summary>
    internal static bool TrySkipDescriptor(ReadOnlySpan<byte> payload, out bool startOfFrame, out int offset)
    {
        startOfFrame = false;
        offset = 0;
        if (payload.Length < 1)
        {
            return false;
        }

        var first = payload[0];
        startOfFrame = (first & 0x10) != 0 && (first & 0x07) == 0;
        offset = 1;
        if ((first & 0x80) != 0)
        {
            if (payload.Length < 2)
            {
                return false;
            }

            var ext = payload[1];
            offset = 2;
            if ((ext & 0x80) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                offset += (payload[offset] & 0x80) != 0 ? 2 : 1;
            }

            if ((ext & 0x40) != 0)
            {
                offset++;
            }

            if ((ext & 0x30) != 0)
            {
                offset++;
            }
        }

        return offset < payload.Length;
    }

    protected override void Finish() => UpdateHeader();

    protected override void UpdateHeader()
    {
        if (!File.CanSeek)
        {
            return;
        }

        Span<byte> fields = stackalloc byte[4];
        File.Seek(12, SeekOrigin.Begin);
        BinaryPrimitives.WriteUInt16LittleEndian(fields, (ushort)Width);
        BinaryPrimitives.WriteUInt16LittleEndian(fields[2..], (ushort)Height);
        File.Write(fields);
        File.Seek(24, SeekOrigin.Begin);
        BinaryPrimitives.WriteUInt32LittleEndian(fields, (uint)Frames);
        File.Write(fields);
        File.Seek(0, SeekOrigin.End);
    }
}

/// <summary>
/// Opus (RFC 7587) into Ogg (RFC 7845): one packet per page, granule positions from the RTP timestamps (48 kHz),
/// the last page flagged end-of-stream.
/// </summary>
internal sealed class OggOpusWriter : TrackFileWriter
{
    private readonly uint _serial = (uint)Random.Shared.Next();
    private readonly byte[] _held = new byte[1500];
    private readonly byte[] _page = new byte[1500 + 27 + 8];
    private int _heldLength = -1;
    private long _heldGranule;
    private uint _pageSequence;
    private long _lastGranule;

    public OggOpusWriter(Stream file, int channels)
        : base(file)
    {
        Span<byte> head = stackalloc byte[19];
        "OpusHead"u8.CopyTo(head);
        head[8] = 1;
        head[9] = (byte)Math.Clamp(channels, 1, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(head[10..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(head[12..], 48000);
        BinaryPrimitives.WriteInt16LittleEndian(head[16..], 0);
        head[18] = 0;
        WritePage(head, 0, 0x02);
        var vendor = "webinar"u8;
        Span<byte> tags = stackalloc byte[8 + 4 + 7 + 4];
        "OpusTags"u8.CopyTo(tags);
        BinaryPrimitives.WriteUInt32LittleEndian(tags[8..], (uint)vendor.Length);
        vendor.CopyTo(tags[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(tags[19..], 0);
        WritePage(tags, 0, 0);
    }

    protected override int ClockRate => 48000;

    protected override void OnPacket(ushort sequence, uint timestamp, bool marker, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _held.Length)
        {
            return;
        }

        var start = Unwrap(timestamp);
        var granule = start + Samples(payload);
        if (granule <= _lastGranule && Frames > 0)
        {
            return; // a late or repeated packet
        }

        FlushHeld(0);
        payload.CopyTo(_held);
        _heldLength = payload.Length;
        _heldGranule = granule;
        _lastGranule = granule;
        Frames++;
        Advanced(granule);
    }

    /// <summary>Samples (48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1).</summary>
    internal static int Samples(ReadOnlySpan<byte> packet)
    {
        var toc = packet[0];
        var config = toc >> 3;
        var frame = config < 12 ? (config % 4) switch { 0 => 480, 1 => 960, 2 => 1920, _ => 2880 }
            : config < 16 ? (config % 2 == 0 ? 480 : 960)
            : (config % 4) switch { 0 => 120, 1 => 240, 2 => 480, _ => 960 };
        var count = (toc & 0x03) switch
        {
            0 => 1,
            3 => packet.Length > 1 ? packet[1] & 0x3F : 1,
            _ => 2,
        };
        return frame * Math.Max(count, 1);
    }

    private void FlushHeld(byte flags)
    {
        if (_heldLength < 0)
        {
            return;
        }

        WritePage(_held.AsSpan(0, _heldLength), _heldGranule, flags);
        _heldLength = -1;
    }

    private void WritePage(ReadOnlySpan<byte> packet, long granule, byte flags)
    {
        var segments = (packet.Length / 255) + 1;
        var page = _page.AsSpan(0, 27 + segments + packet.Length);
        "OggS"u8.CopyTo(page);
        page[4] = 0;
        page[5] = flags;
        BinaryPrimitives.WriteInt64LittleEndian(page[6..], granule);
        BinaryPrimitives.WriteUInt32LittleEndian(page[14..], _serial);
        BinaryPrimitives.WriteUInt32LittleEndian(page[18..], _pageSequence++);
        BinaryPrimitives.WriteUInt32LittleEndian(page[22..], 0);
        page[26] = (byte)segments;
        for (var i = 0; i < segments - 1; i++)
        {
            page[27 + i] = 255;
        }

        page[27 + segments - 1] = (byte)(packet.Length % 255);
        packet.CopyTo(page[(27 + segments)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(page[22..], OggCrc.Compute(page));
        File.Write(page);
    }

    protected override void Finish() => FlushHeld(0x04);
}

/// <summary>Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor.</summary>
internal static class OggCrc
{
    private static readonly uint[] Table = Build();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        foreach (var b in data)
        {
            crc = (crc << 8) ^ Table[((crc >> 24) ^ b) & 0xFF];
        }

        return crc;
    }

    private static uint[] Build()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var r = i << 24;
            for (var bit = 0; bit < 8; bit++)
            {
                r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            }

            table[i] = r;
        }

        return table;
    }
}
