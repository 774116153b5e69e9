using System.Buffers.Binary;

namespace Webinar.Media.Rtp;

/// <summary>The extension URIs WebRTC negotiates in SDP (a=extmap).</summary>
public static class RtpExtensionUris
{
    public const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideSequenceNumber = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public const string Rid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
}

/// <summary>Encoders and decoders for the values of the extensions WebRTC uses; all work on element values.</summary>
public static class RtpExtensions
{
    public const int AbsSendTimeLength = 3;
    public const int TransportSequenceNumberLength = 2;
    public const int AudioLevelLength = 1;

    /// <summary>abs-send-time: seconds in 6.18 fixed point, 24 bits (wraps every 64 s).</summary>
    public static uint AbsSendTimeFromMicroseconds(long microseconds) =>
        (uint)(((ulong)microseconds << 18) / 1_000_000UL) & 0xFFFFFF;

    public static bool TryReadAbsSendTime(ReadOnlySpan<byte> value, out uint absSendTime)
    {
        absSendTime = 0;
        if (value.Length != AbsSendTimeLength)
        {
            return false;
        }

        absSendTime = (uint)((value[0] << 16) | (value[1] << 8) | value[2]);
        return true;
    }

    public static bool TryWriteAbsSendTime(Span<byte> value, uint absSendTime)
    {
        if (value.Length != AbsSendTimeLength)
        {
            return false;
        }

        value[0] = (byte)(absSendTime >> 16);
        value[1] = (byte)(absSendTime >> 8);
        value[2] = (byte)absSendTime;
        return true;
    }

    public static bool TryReadTransportSequenceNumber(ReadOnlySpan<byte> value, out ushort sequenceNumber)
    {
        sequenceNumber = 0;
        if (value.Length != TransportSequenceNumberLength)
        {
            return false;
        }

        sequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(value);
        return true;
    }

    public static bool TryWriteTransportSequenceNumber(Span<byte> value, ushort sequenceNumber)
    {
        if (value.Length != TransportSequenceNumberLength)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(value, sequenceNumber);
        return true;
    }

    /// <summary>RFC 6464: voice activity flag and level in -dBov (0 loudest, 127 silence).</summary>
    public static bool TryReadAudioLevel(ReadOnlySpan<byte> value, out bool voiceActivity, out byte level)
    {
        voiceActivity = false;
        level = 0;
        if (value.Length < AudioLevelLength)
        {
            return false;
        }

        voiceActivity = (value[0] & 0x80) != 0;
        level = (byte)(value[0] & 0x7F);
        return true;
    }

    public static byte EncodeAudioLevel(bool voiceActivity, byte level) =>
        (byte)((voiceActivity ? 0x80 : 0) | Math.Min(level, (byte)127));

    /// <summary>True when a sdes:mid value equals the given ASCII mid, without allocating.</summary>
    public static bool MidEquals(ReadOnlySpan<byte> value, ReadOnlySpan<char> mid)
    {
        if (value.Length != mid.Length)
        {
            return false;
        }

        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != mid[i])
            {
                return false;
            }
        }

        return true;
    }

    public static bool TryGetTransportSequenceNumber(this RtpPacket packet, byte id, out ushort sequenceNumber)
    {
        sequenceNumber = 0;
        return packet.TryGetExtension(id, out var value) && TryReadTransportSequenceNumber(value, out sequenceNumber);
    }

    public static bool TrySetTransportSequenceNumber(this RtpPacket packet, byte id, ushort sequenceNumber) =>
        packet.TryGetExtension(id, out var value) && TryWriteTransportSequenceNumber(value, sequenceNumber);

    public static bool TryGetAbsSendTime(this RtpPacket packet, byte id, out uint absSendTime)
    {
        absSendTime = 0;
        return packet.TryGetExtension(id, out var value) && TryReadAbsSendTime(value, out absSendTime);
    }

    public static bool TrySetAbsSendTime(this RtpPacket packet, byte id, uint absSendTime) =>
        packet.TryGetExtension(id, out var value) && TryWriteAbsSendTime(value, absSendTime);

    public static bool TryGetAudioLevel(this RtpPacket packet, byte id, out bool voiceActivity, out byte level)
    {
        voiceActivity = false;
        level = 0;
        return packet.TryGetExtension(id, out var value) && TryReadAudioLevel(value, out voiceActivity, out level);
    }
}
