using System.Buffers;
using System.Text.Json;
using Webinar.Contracts.Turn;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

/// <summary>Writes the node's frames (docs/signaling.md) as UTF-8 JSON.</summary>
internal static class ServerFrames
{
    public static byte[] Joined(
        Guid meetingId, Guid attendeeId, string externalUserId, Guid? primaryMeetingId, MediaKinds canPublish,
        IEnumerable<PresenceMember> attendees, IEnumerable<MediaStreamInfo> streams, IReadOnlyList<IceServer> iceServers, string? idJson,
        int? spareSlots = null)
    {
        return Write(w =>
        {
            w.WriteString("type", "joined");
            WriteId(w, idJson);
            w.WriteString("meetingId", meetingId);
            w.WriteString("attendeeId", attendeeId);
            w.WriteString("externalUserId", externalUserId);
            if (primaryMeetingId is { } primary)
            {
                w.WriteString("primaryMeetingId", primary);
            }
            else
            {
                w.WriteNull("primaryMeetingId");
            }

            w.WriteString("role", primaryMeetingId is null ? "primary" : "replica");
            WriteKinds(w, "canPublish", canPublish);
            w.WriteStartArray("attendees");
            foreach (var a in attendees)
            {
                w.WriteStartObject();
                w.WriteString("attendeeId", a.AttendeeId);
                w.WriteString("externalUserId", a.ExternalUserId);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("streams");
            foreach (var s in streams)
            {
                w.WriteStartObject();
                WriteStream(w, s);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteIceServers(w, iceServers);
            if (spareSlots is { } spares)
            {
                // The join asked to pre-negotiate: keep this many spare recvonly slots of each kind.
                w.WriteBoolean("preNegotiated", true);
                w.WriteNumber("spareSlots", spares);
            }
        });
    }

    /// <summary>The attendee's TURN servers, shaped as RTCIceServer entries (<c>urls</c>, <c>username</c>, <c>credential</c>).</summary>
    private static void WriteIceServers(Utf8JsonWriter w, IReadOnlyList<IceServer> iceServers)
    {
        w.WriteStartArray("iceServers");
        foreach (var server in iceServers)
        {
            w.WriteStartObject();
            w.WriteStartArray("urls");
            foreach (var url in server.Urls)
            {
                w.WriteStringValue(url);
            }

            w.WriteEndArray();
            w.WriteString("username", server.Username);
            w.WriteString("credential", server.Credential);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static byte[] Answer(string sdp, IReadOnlyList<MediaSlot> slots, string? idJson) => Write(w =>
    {
        w.WriteString("type", "answer");
        WriteId(w, idJson);
        w.WriteString("sdp", sdp);
        w.WriteStartArray("slots");
        foreach (var slot in slots)
        {
            w.WriteStartObject();
            w.WriteString("mid", slot.Mid);
            WriteStream(w, slot.Stream);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>Pre-negotiated slots: the whole current slot map after a stream started on (or left) a slot without an offer.</summary>
    public static byte[] Slots(IReadOnlyList<MediaSlot> slots) => Write(w =>
    {
        w.WriteString("type", "slots");
        w.WriteStartArray("slots");
        foreach (var slot in slots)
        {
            w.WriteStartObject();
            w.WriteString("mid", slot.Mid);
            WriteStream(w, slot.Stream);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] VideoPaused(string streamId, string reason) => Write(w =>
    {
        w.WriteString("type", "video-paused");
        w.WriteString("streamId", streamId);
        w.WriteString("reason", reason);
    });

    public static byte[] VideoResumed(string streamId) => Write(w =>
    {
        w.WriteString("type", "video-resumed");
        w.WriteString("streamId", streamId);
    });

    public static byte[] PreferredLayers(string streamId, int spatialLayer, int? temporalLayer, string? idJson) => Write(w =>
    {
        w.WriteString("type", "preferred-layers");
        WriteId(w, idJson);
        w.WriteString("streamId", streamId);
        w.WriteNumber("spatialLayer", spatialLayer);
        if (temporalLayer is { } temporal)
        {
            w.WriteNumber("temporalLayer", temporal);
        }
    });

    public static byte[] Renegotiate(int audio, int video) => Write(w =>
    {
        w.WriteString("type", "renegotiate");
        w.WriteNumber("audio", audio);
        w.WriteNumber("video", video);
    });

    public static byte[] AttendeeJoined(PresenceMember m) => Presence("attendee-joined", m);

    public static byte[] AttendeeLeft(PresenceMember m) => Presence("attendee-left", m);

    public static byte[] StreamAdded(MediaStreamInfo s) => Stream("stream-added", s);

    public static byte[] StreamRemoved(MediaStreamInfo s) => Stream("stream-removed", s);

    public static byte[] Promoted(Guid primaryMeetingId, Guid attendeeId, string externalUserId, MediaKinds canPublish, string? idJson) => Write(w =>
    {
        w.WriteString("type", "promoted");
        WriteId(w, idJson);
        w.WriteString("meetingId", primaryMeetingId);
        w.WriteString("attendeeId", attendeeId);
        w.WriteString("externalUserId", externalUserId);
        WriteKinds(w, "canPublish", canPublish);
    });

    public static byte[] Demoted(string reason, string? idJson) => Write(w =>
    {
        w.WriteString("type", "demoted");
        WriteId(w, idJson);
        w.WriteString("reason", reason);
    });

    public static byte[] ArchiveStarted(Guid archiveId, string? idJson) => Write(w =>
    {
        w.WriteString("type", "archive-started");
        WriteId(w, idJson);
        w.WriteString("archiveId", archiveId);
    });

    public static byte[] ArchiveStopped(Guid archiveId, string reason) => Write(w =>
    {
        w.WriteString("type", "archive-stopped");
        w.WriteString("archiveId", archiveId);
        w.WriteString("reason", reason);
    });

    public static byte[] Error(string code, string message, string? idJson) => Write(w =>
    {
        w.WriteString("type", "error");
        WriteId(w, idJson);
        w.WriteString("code", code);
        w.WriteString("message", message);
    });

    public static byte[] MeetingEnded(string reason) => Write(w =>
    {
        w.WriteString("type", "meeting-ended");
        w.WriteString("reason", reason);
    });

    public static byte[] Disconnected(string reason) => Write(w =>
    {
        w.WriteString("type", "disconnected");
        w.WriteString("reason", reason);
    });

    private static byte[] Presence(string type, PresenceMember m) => Write(w =>
    {
        w.WriteString("type", type);
        w.WriteString("attendeeId", m.AttendeeId);
        w.WriteString("externalUserId", m.ExternalUserId);
    });

    private static byte[] Stream(string type, MediaStreamInfo s) => Write(w =>
    {
        w.WriteString("type", type);
        WriteStream(w, s);
    });

    private static void WriteStream(Utf8JsonWriter w, MediaStreamInfo s)
    {
        w.WriteString("streamId", s.StreamId);
        w.WriteString("attendeeId", s.AttendeeId);
        w.WriteString("externalUserId", s.ExternalUserId);
        w.WriteString("kind", MediaKindNames.Of(s.Kind));
    }

    private static void WriteKinds(Utf8JsonWriter w, string name, MediaKinds kinds)
    {
        w.WriteStartObject(name);
        w.WriteBoolean("audio", kinds.HasFlag(MediaKinds.Audio));
        w.WriteBoolean("video", kinds.HasFlag(MediaKinds.Video));
        w.WriteEndObject();
    }

    private static void WriteId(Utf8JsonWriter w, string? idJson)
    {
        if (idJson is not null)
        {
            w.WritePropertyName("id");
            w.WriteRawValue(idJson, skipInputValidation: true);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
