namespace Webinar.Media.Rtp;

/// <summary>Tells from an RTP payload whether it starts a key frame, so a node knows when a keyframe arrives.</summary>
public static class KeyframeDetector
{
    /// <summary>
    /// VP8 (RFC 7741): skips the payload descriptor; at the start of partition 0 the P bit of the VP8 payload
    /// header is 0 for a key frame.
    /// </summary>
    public static bool IsVp8Keyframe(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1)
        {
            return false;
        }

        byte descriptor = payload[0];
        bool startOfPartition = (descriptor & 0x10) != 0;
        int partitionIndex = descriptor & 0x07;
        int offset = 1;
        if ((descriptor & 0x80) != 0)
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

                offset += (payload[offset] & 0x80) != 0 ? 2 : 1; // PictureID, 15 or 7 bits
            }

            if ((extension & 0x40) != 0)
            {
                offset++; // TL0PICIDX
            }

            if ((extension & 0x30) != 0)
            {
                offset++; // TID/Y/KEYIDX
            }
        }

        if (!startOfPartition || partitionIndex != 0 || payload.Length <= offset)
        {
            return false;
        }

        return (payload[offset] & 0x01) == 0;
    }

    /// <summary>
    /// H.264 (RFC 6184): an IDR slice (5) or a sequence parameter set (7), alone, inside a STAP-A, or at the
    /// start of an FU-A.
    /// </summary>
    public static bool IsH264Keyframe(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1)
        {
            return false;
        }

        int nalType = payload[0] & 0x1F;
        switch (nalType)
        {
            case 24: // STAP-A: [size:16][nal]...
                int offset = 1;
                while (offset + 2 < payload.Length)
                {
                    int size = (payload[offset] << 8) | payload[offset + 1];
                    offset += 2;
                    if (size == 0 || offset + size > payload.Length)
                    {
                        return false;
                    }

                    if (IsKeyNal(payload[offset] & 0x1F))
                    {
                        return true;
                    }

                    offset += size;
                }

                return false;
            case 28: // FU-A: indicator, header (S E R type)
                return payload.Length >= 2 && (payload[1] & 0x80) != 0 && IsKeyNal(payload[1] & 0x1F);
            default:
                return IsKeyNal(nalType);
        }
    }

    private static bool IsKeyNal(int nalType) => nalType is 5 or 7;
}
