using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Webinar.Sfu.Meetings;

internal static class MeetingsExtensions
{
    /// <summary>The join token verifier, from the PEM file named by <c>Sfu:JoinTokenPublicKeyFile</c> (reloaded when it changes).</summary>
    public static IServiceCollection AddJoinTokens(this IServiceCollection services)
    {
        services.TryAddSingleton<JoinTokenKeyFile>();
        return services;
    }

    public static IServiceCollection AddMeetingDirectory(this IServiceCollection services)
    {
        services.TryAddSingleton<MeetingDirectory>();
        services.TryAddSingleton<RevokedAttendees>();
        services.AddHostedService<DirectoryJanitor>();
        return services;
    }
}
