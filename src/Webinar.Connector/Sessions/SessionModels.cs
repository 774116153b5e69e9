using System.Net;
using Microsoft.Extensions.Logging;

namespace Webinar.Connector.Sessions;

/// <summary>How a <see cref="Session"/> behaves. Every setting has a default.</summary>
public sealed record SessionSettings
{
    public static SessionSettings Default { get; } = new();

    /// <summary>
    /// The local address media goes out from and the SDP candidate names; null picks the address the system routes
    /// toward the signalling host.
    /// </summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>How long a request (join, offer, promote, demote) waits for the node's reply.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long ICE and DTLS may take after the first answer before <see cref="Session.Error"/> reports a failure.</summary>
    public TimeSpan MediaConnectTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>Audio or video.</summary>
public enum MediaKind
{
    Audio,
    Video,
}

/// <summary>Somebody in the session (primary attendees; a replica sees the primary's attendees).</summary>
public sealed record Attendee(string AttendeeId, string ExternalUserId);

/// <summary>A stream you can receive: one kind from one attendee. Subscribe with <see cref="Session.Subscribe"/>.</summary>
public sealed record RemoteStream(string StreamId, Attendee Attendee, MediaKind Kind);

/// <summary>What <c>joined</c> said about this connection.</summary>
public sealed record SessionInfo(string MeetingId, string AttendeeId, string ExternalUserId, bool IsReplica, string? PrimaryMeetingId);

/// <summary>Why a session ended: the node's reason (<c>deleted</c>, <c>attendee-deleted</c>, <c>replaced</c>, ...) or <c>closed</c>.</summary>
public sealed class DisconnectedEventArgs(string reason) : EventArgs
{
    public string Reason { get; } = reason;
}

/// <summary>An error the node or the media transport reported outside any request (a refused request throws instead).</summary>
public sealed class SessionErrorEventArgs(string code, string message) : EventArgs
{
    public string Code { get; } = code;

    public string Message { get; } = message;
}

public sealed class AttendeeEventArgs(Attendee attendee) : EventArgs
{
    public Attendee Attendee { get; } = attendee;
}

public sealed class StreamEventArgs(RemoteStream stream) : EventArgs
{
    public RemoteStream Stream { get; } = stream;
}

/// <summary>The connection was promoted into the primary (as <see cref="Attendee"/>) or demoted (with the node's reason).</summary>
public sealed class PromotionEventArgs(bool promoted, string? reason) : EventArgs
{
    public bool Promoted { get; } = promoted;

    /// <summary>For a demotion: <c>requested</c>, <c>attendee-deleted</c> or <c>meeting-ended</c>.</summary>
    public string? Reason { get; } = reason;
}
