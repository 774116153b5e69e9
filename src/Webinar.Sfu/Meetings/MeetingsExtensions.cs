using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Webinar.Contracts.JoinTokens;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Meetings;

internal static class MeetingsExtensions
{
    /// <summary>The join token verifier, from the PEM file named by <c>Sfu:JoinTokenPublicKeyFile</c>.</summary>
    public static IServiceCollection AddJoinTokens(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SfuOptions>>().Value;
            if (string.IsNullOrWhiteSpace(options.JoinTokenPublicKeyFile))
            {
                throw new InvalidOperationException(
                    "No join token public key: set WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE (or Sfu:JoinTokenPublicKeyFile) to a PEM file.");
            }

            return JoinTokenVerifier.FromPem(File.ReadAllText(options.JoinTokenPublicKeyFile), sp.GetRequiredService<TimeProvider>());
        });
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
