using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Webinar.Contracts.Trust;

public static class BusTrustExtensions
{
    /// <summary>Registers this component's bus identity: <paramref name="principal"/> reads its id from the container.</summary>
    public static IServiceCollection AddBusTrust(this IServiceCollection services, Func<IServiceProvider, string> principal)
    {
        services.AddOptions<BusTrustOptions>().BindConfiguration(BusTrustOptions.Section)
            .Validate(o => o.MaxMessageAge > TimeSpan.Zero, "Trust:MaxMessageAge must be positive.");
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new BusKeys(principal(sp), sp.GetRequiredService<IOptions<BusTrustOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new BusTrust(
            sp.GetRequiredService<BusKeys>(),
            sp.GetRequiredService<IOptions<BusTrustOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<BusTrust>>()));
        services.TryAddSingleton(sp => new RelayKeySealer(sp.GetRequiredService<BusKeys>()));
        return services;
    }

    /// <summary>
    /// Signs everything this bus sends and publishes and verifies everything it consumes. Call before any receive
    /// endpoint is configured; refused messages are not retried (<see cref="IgnoreRefusals"/> in the retry policy).
    /// </summary>
    public static void UseBusTrust(this IBusFactoryConfigurator bus, IRegistrationContext context)
    {
        bus.UseSendFilter(typeof(SignSendFilter<>), context);
        bus.UsePublishFilter(typeof(SignPublishFilter<>), context);
        bus.UseConsumeFilter(typeof(VerifyConsumeFilter<>), context);
    }

    /// <summary>A refused message is never retried: it goes to the endpoint's <c>_error</c> queue at once.</summary>
    public static void IgnoreRefusals(this IRetryConfigurator retry) => retry.Ignore<MessageRefusedException>();
}
