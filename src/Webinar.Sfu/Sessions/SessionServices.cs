using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Webinar.Contracts.JoinTokens;
using Webinar.Sfu.Bus;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Meetings;

namespace Webinar.Sfu.Sessions;

/// <summary>What every session needs, resolved once.</summary>
internal sealed class SessionServices(
    JoinTokenKeyFile verifier,
    MeetingDirectory directory,
    RevokedAttendees revoked,
    MeetingRooms rooms,
    NodeEvents events,
    PlacementClient placements,
    Archives.ArchiveControl archives,
    IOptions<SfuOptions> options,
    TimeProvider time,
    ILogger<Session> logger)
{
    public JoinTokenKeyFile Verifier { get; } = verifier;

    public MeetingDirectory Directory { get; } = directory;

    public RevokedAttendees Revoked { get; } = revoked;

    public MeetingRooms Rooms { get; } = rooms;

    public NodeEvents Events { get; } = events;

    public PlacementClient Placements { get; } = placements;

    public Archives.ArchiveControl Archives { get; } = archives;

    public SfuOptions Options { get; } = options.Value;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;
}

internal static class SessionsExtensions
{
    /// <summary>Rooms, the services every session needs, and archive control. The media plane is Media/'s (or a test's).</summary>
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.TryAddSingleton<MeetingRooms>();
        services.TryAddSingleton<SessionServices>();
        services.TryAddSingleton<Archives.ArchiveControl>();
        return services;
    }
}
