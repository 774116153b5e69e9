namespace Webinar.Media.Rtp;

/// <summary>
/// Keeps one continuous VP8 PictureID and TL0PICIDX space per outgoing stream while its source changes (a simulcast
/// layer switch): after <see cref="Resync"/> the next picture is numbered the last one sent + 1, and the next TL0PICIDX
/// the last + 1, so the subscriber's decoder sees no jump backwards or gap across the switch (the idea of mediasoup's
/// VP8 PictureID manager). A picture the SFU does not forward (a temporal layer above what the subscriber gets) is
/// taken out of the numbering (<see cref="DropPicture"/>), so the pictures sent stay consecutive: a receiver takes a
/// gap for a picture still on its way and holds every frame above the base layer that might depend on it. Rewrites in
/// place, fields keep their width. Not thread-safe.
/// </summary>
public sealed class Vp8PictureRewriter
{
    private const int PictureIdMask = 0x7FFF;

    private bool _resync = true;
    private bool _hasPicture;
    private bool _hasTl0;
    private int _pictureOffset;
    private int _tl0Offset;
    private int _lastPictureId;
    private int _lastTl0;

    /// <summary>The PictureID of the newest picture sent (15-bit space).</summary>
    public int LastPictureId => _lastPictureId;

    /// <summary>The TL0PICIDX of the newest picture sent.</summary>
    public int LastTl0PicIdx => _lastTl0;

    /// <summary>The next packet comes from another source: number it on from what was sent.</summary>
    public void Resync() => _resync = true;

    /// <summary>
    /// The frame that <paramref name="descriptor"/> starts is not forwarded: later pictures are numbered one lower so no
    /// gap shows. Call once per frame (its first packet). A picture older than the last one sent left no gap ahead of it.
    /// </summary>
    public void DropPicture(in Vp8PayloadDescriptor descriptor)
    {
        if (descriptor.PictureId == Vp8PayloadDescriptor.None || _resync || !_hasPicture)
        {
            return; // nothing sent yet, or the next picture is renumbered from the last one sent anyway
        }

        int output = (descriptor.PictureId + _pictureOffset) & PictureIdMask;
        if (((output - _lastPictureId) & PictureIdMask) is > 0 and < 0x4000)
        {
            _pictureOffset--;
        }
    }

    /// <summary>Rewrites the descriptor of one payload about to be sent; <paramref name="descriptor"/> was parsed from it.</summary>
    public void Rewrite(Span<byte> payload, in Vp8PayloadDescriptor descriptor)
    {
        if (_resync)
        {
            _resync = false;
            if (descriptor.PictureId != Vp8PayloadDescriptor.None)
            {
                _pictureOffset = _hasPicture ? _lastPictureId + 1 - descriptor.PictureId : 0;
            }

            if (descriptor.Tl0PicIdx != Vp8PayloadDescriptor.None)
            {
                _tl0Offset = _hasTl0 ? _lastTl0 + 1 - descriptor.Tl0PicIdx : 0;
            }
        }

        if (descriptor.PictureId != Vp8PayloadDescriptor.None)
        {
            int output = (descriptor.PictureId + _pictureOffset) & PictureIdMask;
            descriptor.WritePictureId(payload, output);
            if (!_hasPicture || ((output - _lastPictureId) & PictureIdMask) is > 0 and < 0x4000)
            {
                _lastPictureId = output;
                _hasPicture = true;
            }
        }

        if (descriptor.Tl0PicIdx != Vp8PayloadDescriptor.None)
        {
            int output = (descriptor.Tl0PicIdx + _tl0Offset) & 0xFF;
            descriptor.WriteTl0PicIdx(payload, output);
            if (!_hasTl0 || ((output - _lastTl0) & 0xFF) is > 0 and < 0x80)
            {
                _lastTl0 = output;
                _hasTl0 = true;
            }
        }
    }
}
