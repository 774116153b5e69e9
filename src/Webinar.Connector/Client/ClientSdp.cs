using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Webinar.Media.Dtls;
using Webinar.Media.Rtp;
using Webinar.Media.Sdp;

namespace Webinar.Connector.Client;

/// <summary>Header extension ids negotiated for the bundle (0 = not negotiated).</summary>
internal readonly record struct ClientExtensionIds(byte Mid, byte AbsSendTime, byte TransportSequenceNumber);

/// <summary>What the client takes from the remote description: transport parameters and per-mid media choices.</summary>
internal sealed record ClientRemoteTransport(
    string IceUfrag,
    string IcePwd,
    DtlsFingerprint Fingerprint,
    DtlsRole LocalDtlsRole,
    IPEndPoint Candidate,
    bool IceLite,
    ClientExtensionIds Extensions);

/// <summary>
/// The client's SDP: a Unified Plan offer (BUNDLE, rtcp-mux, actpass, Opus 111 and VP8 96, mid/abs-send-time/
/// transport-wide-cc), an answer to a remote offer (for servers that offer, such as a Janus videoroom subscription),
/// and reading the remote side's transport and media choices. Signalling-time code: allocations are fine here.
/// </summary>
internal static class ClientSdp
{
    public const byte OfferMidId = 1;
    public const byte OfferAbsSendTimeId = 2;
    public const byte OfferTransportCcId = 3;

    public static SessionDescription BuildOffer(ClientSdpIdentity identity, IReadOnlyList<ClientTrack> tracks, bool offerRtx = false)
    {
        var sdp = NewSession(identity);
        foreach (var track in tracks)
        {
            var media = NewMedia(identity, track.Kind == ClientMediaKind.Audio ? "audio" : "video", track.Mid, "actpass");
            media.Direction = ToSdp(track.OfferedDirection);
            var codec = track.Kind == ClientMediaKind.Audio ? Opus(track.PayloadType) : Vp8(track.PayloadType);
            media.Formats.Add(track.PayloadType.ToString(CultureInfo.InvariantCulture));
            media.Codecs.Add(codec);
            var rtx = offerRtx && track.Kind == ClientMediaKind.Video;
            if (rtx)
            {
                media.Formats.Add(ClientTrack.DefaultPayloadTypeRtx.ToString(CultureInfo.InvariantCulture));
                media.Codecs.Add(new SdpCodec(ClientTrack.DefaultPayloadTypeRtx)
                {
                    Name = SdpRtx.CodecName,
                    ClockRate = 90000,
                    Fmtp = "apt=" + track.PayloadType.ToString(CultureInfo.InvariantCulture),
                });
            }

            media.Extensions.Add(new SdpExtmap(OfferMidId, null, RtpExtensionUris.Mid));
            media.Extensions.Add(new SdpExtmap(OfferAbsSendTimeId, null, RtpExtensionUris.AbsSendTime));
            media.Extensions.Add(new SdpExtmap(OfferTransportCcId, null, RtpExtensionUris.TransportWideSequenceNumber));
            AddSendingSsrc(media, track, identity.Cname, rtx);
            sdp.Media.Add(media);
        }

        sdp.Groups.Add(new SdpGroup("BUNDLE", Mids(tracks)));
        return sdp;
    }

    /// <summary>
    /// Answers a remote offer: every offered audio/video m-line the client can decode (Opus, VP8) is accepted
    /// receive-only (a remote sendrecv or sendonly line) and becomes a <see cref="ClientTrack"/>; the rest are rejected.
    /// The client answers <c>a=setup:active</c>, so it is the DTLS client.
    /// </summary>
    public static bool TryBuildAnswer(
        SessionDescription offer,
        ClientSdpIdentity identity,
        Func<string, ClientMediaKind, ClientTrackDirection, ClientTrack> createTrack,
        out SessionDescription answer,
        out List<ClientTrack> tracks,
        out string error)
    {
        answer = NewSession(identity);
        tracks = [];
        var bundle = new List<string>();
        foreach (var offered in offer.Media)
        {
            if (offered.Mid is null)
            {
                error = "Every m-line of the remote offer needs an a=mid.";
                return false;
            }

            ClientMediaKind kind = offered.Kind == "audio" ? ClientMediaKind.Audio : ClientMediaKind.Video;
            SdpCodec? codec = offered.IsRejected || !string.Equals(offered.Protocol, MediaDescription.WebRtcProtocol, StringComparison.OrdinalIgnoreCase)
                ? null
                : offered.Kind switch
                {
                    "audio" => FindCodec(offered, "opus", 48000),
                    "video" => FindCodec(offered, "VP8", 90000),
                    _ => null,
                };
            bool remoteSends = offered.Direction is SdpDirection.SendOnly or SdpDirection.SendRecv;
            if (codec is null || !remoteSends)
            {
                var rejected = new MediaDescription { Kind = offered.Kind, Port = 0, Protocol = offered.Protocol, Mid = offered.Mid, Direction = SdpDirection.Inactive };
                rejected.Formats.Add(offered.Formats.Count > 0 ? offered.Formats[0] : "0");
                answer.Media.Add(rejected);
                continue;
            }

            var media = NewMedia(identity, offered.Kind, offered.Mid, "active");
            media.Direction = SdpDirection.RecvOnly;
            media.Formats.Add(codec.PayloadType.ToString(CultureInfo.InvariantCulture));
            var answered = kind == ClientMediaKind.Audio ? Opus(codec.PayloadType) : Vp8(codec.PayloadType);
            answered.Feedback.RemoveAll(f => !codec.Feedback.Contains(f, StringComparer.OrdinalIgnoreCase));
            media.Codecs.Add(answered);
            foreach (var extension in offered.Extensions)
            {
                if (extension.Uri is RtpExtensionUris.Mid or RtpExtensionUris.AbsSendTime or RtpExtensionUris.TransportWideSequenceNumber)
                {
                    media.Extensions.Add(new SdpExtmap(extension.Id, null, extension.Uri));
                }
            }

            var track = createTrack(offered.Mid, kind, ClientTrackDirection.RecvOnly);
            track.PayloadType = (byte)codec.PayloadType;
            track.RemoteSsrcs = RemoteSsrcs(offered);
            tracks.Add(track);
            // The SSRC our RTCP about this m-line (receiver reports, PLI) is sent from, so the offerer can tie it to the line.
            var rtcpSource = new SdpSsrc(track.Ssrc);
            rtcpSource.Attributes.Add(new SdpAttribute("cname", identity.Cname));
            media.Ssrcs.Add(rtcpSource);
            bundle.Add(offered.Mid);
            answer.Media.Add(media);
        }

        if (bundle.Count == 0)
        {
            error = "The remote offer has no audio or video the client can receive (Opus or VP8).";
            return false;
        }

        answer.Groups.Add(new SdpGroup("BUNDLE", bundle));
        error = "";
        return true;
    }

    /// <summary>Reads ICE credentials, fingerprint, setup, the first IPv4 UDP host candidate and the extension ids.</summary>
    public static bool TryReadTransport(SessionDescription remote, bool remoteIsAnswer, out ClientRemoteTransport transport, out string error)
    {
        transport = null!;
        MediaDescription? first = null;
        foreach (var media in remote.Media)
        {
            if (!media.IsRejected)
            {
                first = media;
                break;
            }
        }

        if (first is null)
        {
            error = "The remote description accepts no m-line.";
            return false;
        }

        string? ufrag = first.IceUfrag ?? remote.IceUfrag;
        string? pwd = first.IcePwd ?? remote.IcePwd;
        if (string.IsNullOrEmpty(ufrag) || string.IsNullOrEmpty(pwd))
        {
            error = "The remote description has no a=ice-ufrag/a=ice-pwd.";
            return false;
        }

        if (!DtlsFingerprint.TryParse(first.Fingerprint ?? remote.Fingerprint, out var fingerprint))
        {
            error = "The remote description has no usable a=fingerprint.";
            return false;
        }

        string setup = first.Setup ?? remote.Setup ?? (remoteIsAnswer ? "active" : "actpass");
        DtlsRole role;
        if (remoteIsAnswer)
        {
            // We offered actpass: the answerer picks. active = it dials, so we serve; passive = we dial.
            if (setup is not ("active" or "passive"))
            {
                error = $"The answer says a=setup:{setup}; an answer to actpass must be active or passive.";
                return false;
            }

            role = setup == "active" ? DtlsRole.Server : DtlsRole.Client;
        }
        else
        {
            if (setup is not ("actpass" or "passive"))
            {
                error = $"The offer says a=setup:{setup}; the client answers active, so it must be actpass or passive.";
                return false;
            }

            role = DtlsRole.Client;
        }

        IPEndPoint? candidate = null;
        foreach (var media in remote.Media)
        {
            foreach (var c in media.Candidates)
            {
                if (c.Component == 1
                    && string.Equals(c.Transport, "udp", StringComparison.OrdinalIgnoreCase)
                    && IPAddress.TryParse(c.Address, out var address)
                    && address.AddressFamily == AddressFamily.InterNetwork
                    && c.Port is > 0 and <= 65535)
                {
                    candidate = new IPEndPoint(address, c.Port);
                    break;
                }
            }

            if (candidate is not null)
            {
                break;
            }
        }

        if (candidate is null)
        {
            error = "The remote description has no IPv4 UDP candidate.";
            return false;
        }

        transport = new ClientRemoteTransport(ufrag, pwd, fingerprint, role, candidate, remote.IceLite, ReadExtensionIds(first));
        error = "";
        return true;
    }

    /// <summary>Applies an answer's per-mid choices (payload type, remote SSRCs, direction) to the offered tracks.</summary>
    public static bool TryApplyAnswerMedia(SessionDescription answer, IReadOnlyList<ClientTrack> tracks, out string error)
    {
        foreach (var track in tracks)
        {
            MediaDescription? media = null;
            foreach (var candidate in answer.Media)
            {
                if (candidate.Mid == track.Mid)
                {
                    media = candidate;
                    break;
                }
            }

            if (media is null || media.IsRejected)
            {
                error = $"The answer rejects or lacks mid {track.Mid}.";
                return false;
            }

            if (media.Formats.Count == 0 || !int.TryParse(media.Formats[0], NumberStyles.None, CultureInfo.InvariantCulture, out int payloadType) || payloadType > 127)
            {
                error = $"The answer for mid {track.Mid} has no payload type.";
                return false;
            }

            track.PayloadType = (byte)payloadType;
            track.RtxPayloadType = SdpRtx.TryGetPayloadType(media, payloadType, out var rtxPayloadType) ? rtxPayloadType : -1;
            track.RemoteSsrcs = RemoteSsrcs(media);
            bool remoteSends = media.Direction is SdpDirection.SendOnly or SdpDirection.SendRecv;
            bool remoteReceives = media.Direction is SdpDirection.RecvOnly or SdpDirection.SendRecv;
            bool offersToSend = track.OfferedDirection is ClientTrackDirection.SendOnly or ClientTrackDirection.SendRecv;
            bool offersToReceive = track.OfferedDirection is ClientTrackDirection.RecvOnly or ClientTrackDirection.SendRecv;
            track.Direction = (offersToSend && remoteReceives, offersToReceive && remoteSends) switch
            {
                (true, true) => ClientTrackDirection.SendRecv,
                (true, false) => ClientTrackDirection.SendOnly,
                (false, true) => ClientTrackDirection.RecvOnly,
                _ => ClientTrackDirection.Inactive,
            };
        }

        error = "";
        return true;
    }

    private static ClientExtensionIds ReadExtensionIds(MediaDescription media)
    {
        byte mid = 0, abs = 0, twcc = 0;
        foreach (var extension in media.Extensions)
        {
            if (extension.Id is < 1 or > 14)
            {
                continue;
            }

            switch (extension.Uri)
            {
                case RtpExtensionUris.Mid:
                    mid = (byte)extension.Id;
                    break;
                case RtpExtensionUris.AbsSendTime:
                    abs = (byte)extension.Id;
                    break;
                case RtpExtensionUris.TransportWideSequenceNumber:
                    twcc = (byte)extension.Id;
                    break;
            }
        }

        return new ClientExtensionIds(mid, abs, twcc);
    }

    private static List<uint> RemoteSsrcs(MediaDescription media)
    {
        var ssrcs = new List<uint>(media.Ssrcs.Count);
        foreach (var ssrc in media.Ssrcs)
        {
            ssrcs.Add(ssrc.Ssrc);
        }

        return ssrcs;
    }

    private static SdpCodec? FindCodec(MediaDescription media, string name, int clockRate)
    {
        foreach (var codec in media.Codecs)
        {
            if (string.Equals(codec.Name, name, StringComparison.OrdinalIgnoreCase) && codec.ClockRate == clockRate)
            {
                return codec;
            }
        }

        return null;
    }

    private static SessionDescription NewSession(ClientSdpIdentity identity)
    {
        var sdp = new SessionDescription
        {
            Origin = new SdpOrigin("-", identity.SessionId.ToString(CultureInfo.InvariantCulture), 1, "IN", "IP4", identity.Candidate.Address.ToString()),
            MsidSemantic = "WMS *",
        };
        return sdp;
    }

    private static MediaDescription NewMedia(ClientSdpIdentity identity, string kind, string mid, string setup)
    {
        var media = new MediaDescription
        {
            Kind = kind,
            Port = identity.Candidate.Port,
            Protocol = MediaDescription.WebRtcProtocol,
            Connection = "IN IP4 " + identity.Candidate.Address,
            Mid = mid,
            IceUfrag = identity.Ice.Ufrag,
            IcePwd = identity.Ice.Password,
            Fingerprint = identity.Fingerprint.ToString(),
            Setup = setup,
            RtcpMux = true,
            RtcpRsize = true,
            EndOfCandidates = true,
        };
        media.Candidates.Add(new SdpCandidate("1", 1, "udp", 2130706431, identity.Candidate.Address.ToString(), identity.Candidate.Port, "host"));
        return media;
    }

    private static void AddSendingSsrc(MediaDescription media, ClientTrack track, string cname, bool rtx = false)
    {
        if (!track.Sends)
        {
            return;
        }

        string msid = track.StreamId + " " + track.TrackId;
        media.Msids.Add(msid);
        var ssrc = new SdpSsrc(track.Ssrc);
        ssrc.Attributes.Add(new SdpAttribute("cname", cname));
        ssrc.Attributes.Add(new SdpAttribute("msid", msid));
        media.Ssrcs.Add(ssrc);
        if (rtx && track.RtxSsrc != 0)
        {
            media.SsrcGroups.Add(new SdpSsrcGroup("FID", [track.Ssrc, track.RtxSsrc]));
            var repair = new SdpSsrc(track.RtxSsrc);
            repair.Attributes.Add(new SdpAttribute("cname", cname));
            repair.Attributes.Add(new SdpAttribute("msid", msid));
            media.Ssrcs.Add(repair);
        }
    }

    private static SdpCodec Opus(int payloadType)
    {
        var codec = new SdpCodec(payloadType) { Name = "opus", ClockRate = 48000, Channels = 2, Fmtp = "minptime=10;useinbandfec=1" };
        codec.Feedback.Add("transport-cc");
        return codec;
    }

    private static SdpCodec Vp8(int payloadType)
    {
        var codec = new SdpCodec(payloadType) { Name = "VP8", ClockRate = 90000 };
        codec.Feedback.Add("nack");
        codec.Feedback.Add("nack pli");
        codec.Feedback.Add("transport-cc");
        return codec;
    }

    private static List<string> Mids(IReadOnlyList<ClientTrack> tracks)
    {
        var mids = new List<string>(tracks.Count);
        foreach (var track in tracks)
        {
            mids.Add(track.Mid);
        }

        return mids;
    }

    private static SdpDirection ToSdp(ClientTrackDirection direction) => direction switch
    {
        ClientTrackDirection.SendOnly => SdpDirection.SendOnly,
        ClientTrackDirection.RecvOnly => SdpDirection.RecvOnly,
        ClientTrackDirection.SendRecv => SdpDirection.SendRecv,
        _ => SdpDirection.Inactive,
    };
}

/// <summary>The local half of the SDP: ICE credentials, certificate fingerprint, the socket's candidate, a session id.</summary>
internal sealed record ClientSdpIdentity(Webinar.Media.Ice.IceCredentials Ice, DtlsFingerprint Fingerprint, IPEndPoint Candidate, ulong SessionId, string Cname);
