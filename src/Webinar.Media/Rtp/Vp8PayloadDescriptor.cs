using System.Buffers.Binary;

namespace Webinar.Media.Rtp;

/// <summary>
/// The VP8 payload descriptor (RFC 7741 §4.2) at the start of a VP8 RTP payload: where its optional fields sit and
/// what they say, read once so an SFU can tell keyframes and temporal layers apart and rewrite PictureID and
/// TL0PICIDX in place (the field widths never change, so the packet keeps its length). Parsing never throws: a
/// truncated descriptor is <c>false</c>.
/// </summary>
public readonly struct Vp8PayloadDescriptor
{
    /// <summary>No PictureID, TL0PICIDX or TID in the descriptor.</summary>
    public const int None = -1;

    private readonly int _pictureIdOffset;
    private readonly int _tl0Offset;

    private Vp8PayloadDescriptor(int length, bool startOfPartition, int partitionIndex, bool nonReference, int pictureIdOffset,
        int pictureIdBits, int pictureId, int tl0Offset, int tl0PicIdx, int temporalLayer, bool layerSync, bool keyframe)
    {
        Length = length;
        StartOfPartition = startOfPartition;
        PartitionIndex = partitionIndex;
        NonReference = nonReference;
        _pictureIdOffset = pictureIdOffset;
        PictureIdBits = pictureIdBits;
        PictureId = pictureId;
        _tl0Offset = tl0Offset;
        Tl0PicIdx = tl0PicIdx;
        TemporalLayer = temporalLayer;
        LayerSync = layerSync;
        IsKeyframe = keyframe;
    }

    /// <summary>Bytes the descriptor takes; the VP8 payload header follows.</summary>
    public int Length { get; }

    /// <summary>S: this packet starts a VP8 partition.</summary>
    public bool StartOfPartition { get; }

    /// <summary>PID: the partition index (0 in the packet that starts a frame).</summary>
    public int PartitionIndex { get; }

    /// <summary>N: no other frame references this one, so it can be dropped.</summary>
    public bool NonReference { get; }

    /// <summary>7 or 15 when a PictureID is present, else 0.</summary>
    public int PictureIdBits { get; }

    /// <summary>The PictureID, or <see cref="None"/>.</summary>
    public int PictureId { get; }

    /// <summary>TL0PICIDX, or <see cref="None"/>.</summary>
    public int Tl0PicIdx { get; }

    /// <summary>TID (0 for the base temporal layer), or <see cref="None"/> without a T bit.</summary>
    public int TemporalLayer { get; }

    /// <summary>Y: the frame depends only on base-layer frames (a temporal layer can be switched up here).</summary>
    public bool LayerSync { get; }

    /// <summary>The packet starts a key frame (S=1, PID=0 and the P bit of the VP8 payload header 0).</summary>
    public bool IsKeyframe { get; }

    /// <summary>The first packet of a frame (start of partition 0).</summary>
    public bool IsStartOfFrame => StartOfPartition && PartitionIndex == 0;

    public static bool TryParse(ReadOnlySpan<byte> payload, out Vp8PayloadDescriptor descriptor)
    {
        descriptor = default;
        if (payload.Length < 1)
        {
            return false;
        }

        byte first = payload[0];
        bool start = (first & 0x10) != 0;
        int partition = first & 0x07;
        int offset = 1;
        int pictureIdOffset = None, pictureIdBits = 0, pictureId = None, tl0Offset = None, tl0 = None, tid = None;
        bool sync = false;
        if ((first & 0x80) != 0)
        {
            if (payload.Length < 2)
            {
                return false;
            }

            byte x = payload[1];
            offset = 2;
            if ((x & 0x80) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                pictureIdOffset = offset;
                if ((payload[offset] & 0x80) != 0)
                {
                    if (payload.Length <= offset + 1)
                    {
                        return false;
                    }

                    pictureIdBits = 15;
                    pictureId = BinaryPrimitives.ReadUInt16BigEndian(payload[offset..]) & 0x7FFF;
                    offset += 2;
                }
                else
                {
                    pictureIdBits = 7;
                    pictureId = payload[offset] & 0x7F;
                    offset++;
                }
            }

            if ((x & 0x40) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                tl0Offset = offset;
                tl0 = payload[offset];
                offset++;
            }

            if ((x & 0x30) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                if ((x & 0x20) != 0)
                {
                    tid = payload[offset] >> 6;
                    sync = (payload[offset] & 0x20) != 0;
                }

                offset++;
            }
        }

        if (payload.Length < offset)
        {
            return false;
        }

        bool keyframe = start && partition == 0 && payload.Length > offset && (payload[offset] & 0x01) == 0;
        descriptor = new Vp8PayloadDescriptor(offset, start, partition, (first & 0x20) != 0, pictureIdOffset, pictureIdBits,
            pictureId, tl0Offset, tl0, tid, sync, keyframe);
        return true;
    }

    /// <summary>Writes <paramref name="pictureId"/> (modulo the field's width) into the payload this descriptor was read from.</summary>
    public void WritePictureId(Span<byte> payload, int pictureId)
    {
        if (PictureIdBits == 15)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload[_pictureIdOffset..], (ushort)(0x8000 | (pictureId & 0x7FFF)));
        }
        else if (PictureIdBits == 7)
        {
            payload[_pictureIdOffset] = (byte)(pictureId & 0x7F);
        }
    }

    /// <summary>Writes <paramref name="tl0PicIdx"/> (modulo 256) into the payload this descriptor was read from.</summary>
    public void WriteTl0PicIdx(Span<byte> payload, int tl0PicIdx)
    {
        if (_tl0Offset != None)
        {
            payload[_tl0Offset] = (byte)tl0PicIdx;
        }
    }
}
