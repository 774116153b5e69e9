using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Webinar.Contracts.Bus;
using Webinar.Contracts.Trust;
using Webinar.Sfu.Hosting;

namespace Webinar.Sfu.Bus;

internal static class BusExtensions
{
    /// <summary>
    /// MassTransit on RabbitMQ: the node's queue <c>sfu-{nodeId}</c> (every node gets every event), the event
    /// publisher, the heartbeat, and the placement queries to the control plane (restored at startup, asked per
    /// unknown meeting). The host starts without waiting for the broker, and MassTransit keeps reconnecting while it
    /// is down, so clients are served without RabbitMQ. With <paramref name="withRelay"/> the same queue takes the
    /// relay messages other nodes send to this one.
    /// </summary>
    public static IServiceCollection AddNodeBus(this IServiceCollection services, bool withRelay)
    {
        services.AddBusTrust(sp => sp.GetRequiredService<IOptions<SfuOptions>>().Value.EffectiveNodeId);
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<MeetingEventsConsumer>();
            if (withRelay)
            {
                bus.AddConsumer<Relay.RelayConsumer>();
                bus.AddConsumer<Archives.ArchiveEventsConsumer>();
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                var node = context.GetRequiredService<IOptions<SfuOptions>>().Value;
                rabbit.Host(options.Host, (ushort)options.Port, options.VirtualHost, host =>
                {
                    host.Username(options.Username);
                    host.Password(options.Password);
                });
                rabbit.UseBusTrust(context);
                rabbit.UseMessageRetry(r =>
                {
                    r.None();
                    r.IgnoreRefusals();
                });
                rabbit.ReceiveEndpoint("sfu-" + node.EffectiveNodeId, endpoint =>
                {
                    endpoint.ConfigureConsumeTopology = true;
                    endpoint.ConfigureConsumer<MeetingEventsConsumer>(context);
                    if (withRelay)
                    {
                        endpoint.ConfigureConsumer<Relay.RelayConsumer>(context);
                        endpoint.ConfigureConsumer<Archives.ArchiveEventsConsumer>(context);
                    }
                });
            });
        });
        services.AddOptions<MassTransitHostOptions>().Configure<IOptions<RabbitMqOptions>>((host, rabbit) =>
        {
            host.WaitUntilStarted = rabbit.Value.WaitUntilStarted;
            host.StartTimeout = TimeSpan.FromSeconds(30);
            host.StopTimeout = TimeSpan.FromSeconds(5);
        });

        services.TryAddSingleton<NodePlacements>();
        services.TryAddSingleton<PlacementClient>();
        services.TryAddSingleton<PlacementRestore>();
        services.AddHostedService(sp => sp.GetRequiredService<PlacementRestore>());
        services.TryAddSingleton<NodeEvents>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeEvents>());
        services.AddHostedService<HeartbeatService>();
        return services;
    }
}
