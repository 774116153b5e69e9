using System.Buffers.Binary;

namespace Webinar.Connector.Client;

/// <summary>
/// Payloads that look like real media to an SFU: Opus-sized audio packets and VP8 frames with a valid RTP payload
/// descriptor (RFC 7741) and, at the start of a frame, a valid VP8 frame tag (key frames with the start code and
/// dimensions, RFC 6386 §9.1). Every payload carries a tag — the packet's original sequence number and SSRC — right
/// after those headers, so a receiver can match what arrives with what was sent even when an SFU rewrites headers.
/// </summary>
public static class SyntheticMedia
{
    /// <summary>Opus packet length (20 ms at about 40 kbit/s).</summary>
    public const int AudioPayloadLength = 100;

    /// <summary>Largest RTP payload a video packet carries, so packets stay ≤ 1200 bytes on the wire.</summary>
    public const int MaxVideoPayloadLength = 1100;

    /// <summary>VP8 payload descriptor with X=1, I=1 and a 15-bit picture id.</summary>
    public const int Vp8DescriptorLength = 4;

    /// <summary>VP8 frame tag (3 bytes) plus, on a key frame, start code (3) and width/height (4).</summary>
    public const int Vp8KeyframeHeaderLength = 10;

    public const int Vp8InterframeHeaderLength = 3;

    /// <summary>The tag: original sequence number (2 bytes) and SSRC (4 bytes).</summary>
    public const int TagLength = 6;

    public const ushort Width = 1280;
    public const ushort Height = 720;

    /// <summary>Writes a synthetic Opus payload: a TOC byte (SILK-WB 20 ms, stereo, one frame), the tag, filler.</summary>
    public static int WriteAudio(Span<byte> destination, ushort sequenceNumber, uint ssrc)
    {
        destination[0] = 0x4C; // config 9 (SILK WB 20 ms), s=1, c=0
        WriteTag(destination.Slice(1), sequenceNumber, ssrc);
        Fill(destination.Slice(1 + TagLength, AudioPayloadLength - 1 - TagLength), sequenceNumber);
        return AudioPayloadLength;
    }

    /// <summary>
    /// Writes one packet of a VP8 frame: descriptor (S bit on the first packet), then on the first packet the frame
    /// header, then the tag and filler up to <paramref name="payloadLength"/>.
    /// </summary>
    public static int WriteVideo(Span<byte> destination, int payloadLength, bool firstPacketOfFrame, bool keyframe, ushort pictureId, int frameSize, ushort sequenceNumber, uint ssrc)
    {
        destination[0] = (byte)(0x80 | (firstPacketOfFrame ? 0x10 : 0)); // X=1, S, PID=0
        destination[1] = 0x80; // I=1
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), (ushort)(0x8000 | (pictureId & 0x7FFF)));
        int at = Vp8DescriptorLength;
        if (firstPacketOfFrame)
        {
            // Frame tag: P (0 = key frame), version 0, show_frame 1, first partition size (19 bits).
            int firstPartition = Math.Min(frameSize / 4, 0x7FFFF);
            uint tag = (uint)((keyframe ? 0 : 1) | (1 << 4) | (firstPartition << 5));
            destination[at] = (byte)tag;
            destination[at + 1] = (byte)(tag >> 8);
            destination[at + 2] = (byte)(tag >> 16);
            at += 3;
            if (keyframe)
            {
                destination[at] = 0x9D;
                destination[at + 1] = 0x01;
                destination[at + 2] = 0x2A;
                BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(at + 3), Width);
                BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(at + 5), Height);
                at += 7;
            }
        }

        WriteTag(destination.Slice(at), sequenceNumber, ssrc);
        at += TagLength;
        Fill(destination.Slice(at, payloadLength - at), sequenceNumber);
        return payloadLength;
    }

    /// <summary>Reads the tag of a payload written here (audio or video). False when it is too short.</summary>
    public static bool TryReadTag(ReadOnlySpan<byte> payload, bool video, out ushort sequenceNumber, out uint ssrc)
    {
        sequenceNumber = 0;
        ssrc = 0;
        int at;
        if (!video)
        {
            at = 1;
        }
        else
        {
            if (payload.Length < Vp8DescriptorLength)
            {
                return false;
            }

            at = Vp8DescriptorLength;
            if ((payload[0] & 0x10) != 0 && payload.Length > at)
            {
                at += (payload[at] & 1) == 0 ? Vp8KeyframeHeaderLength : Vp8InterframeHeaderLength;
            }
        }

        if (payload.Length < at + TagLength)
        {
            return false;
        }

        sequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(at));
        ssrc = BinaryPrimitives.ReadUInt32BigEndian(payload.Slice(at + 2));
        return true;
    }

    private static void WriteTag(Span<byte> destination, ushort sequenceNumber, uint ssrc)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(2), ssrc);
    }

    private static void Fill(Span<byte> destination, ushort seed)
    {
        uint state = 0x9E3779B9u ^ seed;
        for (int i = 0; i < destination.Length; i++)
        {
            state = (state * 1664525u) + 1013904223u;
            destination[i] = (byte)(state >> 24);
        }
    }
}
