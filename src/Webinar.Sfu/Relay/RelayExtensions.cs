using Microsoft.Extensions.DependencyInjection.Extensions;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Relay;

internal static class RelayExtensions
{
    /// <summary>The inter-node relay: only when the node runs the real media plane (tests may run signalling alone).</summary>
    public static IServiceCollection AddRelay(this IServiceCollection services)
    {
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section);
        services.TryAddSingleton<MediaRelay>();
        services.TryAddSingleton<IRelayHooks>(sp => sp.GetRequiredService<MediaRelay>());
        services.AddSingleton<IPrimaryPresenceObserver>(sp => sp.GetRequiredService<MediaRelay>());
        services.TryAddSingleton<RelayService>();
        services.AddHostedService(sp => sp.GetRequiredService<RelayService>());
        return services;
    }
}
