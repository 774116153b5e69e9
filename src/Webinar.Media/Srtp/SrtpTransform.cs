namespace Webinar.Media.Srtp;

/// <summary>
/// The cryptographic transform of one profile, with the packet already parsed by <see cref="SrtpSession"/>:
/// header length, SSRC and packet index are given. In-place; allocation-free; not thread-safe.
/// </summary>
internal abstract class SrtpTransform : IDisposable
{
    /// <summary>Bytes appended to an RTP packet.</summary>
    public abstract int RtpTagLength { get; }

    /// <summary>Authentication tag length on SRTCP (the 4-byte E||index comes on top).</summary>
    public abstract int RtcpTagLength { get; }

    /// <summary>Encrypts <c>packet[headerLength..length]</c> and writes the tag at <c>packet[length..]</c>.</summary>
    public abstract void ProtectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index);

    /// <summary>Verifies the tag at <c>packet[length..length+tag]</c> and decrypts in place; false on a bad tag.</summary>
    public abstract bool UnprotectRtp(Span<byte> packet, int headerLength, int length, uint ssrc, ulong index);

    /// <summary>Encrypts <c>packet[8..length]</c>, appends E||index and the tag (SRTCP layout of the profile).</summary>
    public abstract void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index);

    /// <summary>
    /// Verifies and (if <paramref name="encrypted"/>) decrypts an SRTCP packet of <paramref name="length"/> bytes
    /// including its trailer; the plain RTCP is <c>packet[..length - RtcpTagLength - 4]</c>.
    /// </summary>
    public abstract bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted);

    public abstract void Dispose();
}
