using System.Data.Common;
using System.Net;
using System.Text.Json.Serialization;
using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Webinar.Contracts.Bus;
using Webinar.Contracts.Archives;
using Webinar.Contracts.Trust;
using Webinar.Contracts.Tls;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Archives;
using Webinar.ControlPlane.Attendees;
using Webinar.ControlPlane.Connections;
using Webinar.ControlPlane.Data;
using Webinar.ControlPlane.Idle;
using Webinar.ControlPlane.JoinTokens;
using Webinar.ControlPlane.Mediation;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Outbox;
using Webinar.ControlPlane.Platforms;
using Webinar.ControlPlane.Turn;
using Webinar.ControlPlane.Webhooks;

namespace Webinar.ControlPlane.Hosting;

/// <summary>One method per concern; each uses TryAdd* so a test can register its own service first.</summary>
internal static class ServiceCollectionExtensions
{
    public static IServiceCollection AddControlPlaneOptions(this IServiceCollection services)
    {
        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.Section);
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section);
        services.AddOptions<PlatformOptions>().Configure<IConfiguration>((o, configuration) => configuration.GetSection(PlatformOptions.Section).Bind(o.Platforms));
        services.AddOptions<MeetingOptions>().BindConfiguration(MeetingOptions.Section)
            .Validate(o => o.ReplicasPerPrimary is >= 1 and <= 100, "Meetings:ReplicasPerPrimary must be 1 to 100.")
            .Validate(o => o.RegionList().Count > 0, "Meetings:Regions must name at least one region.")
            .ValidateOnStart();
        services.AddOptions<JoinTokenOptions>().BindConfiguration(JoinTokenOptions.Section)
            .Validate(o => o.Lifetime > TimeSpan.Zero, "JoinTokens:Lifetime must be positive.");
        services.AddOptions<IdleOptions>().BindConfiguration(IdleOptions.Section)
            .Validate(o => o.TimeoutSeconds >= 1, "Idle:TimeoutSeconds must be at least 1.")
            .ValidateOnStart();
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.Section)
            .Validate(o => o.GoneAfter >= o.UnhealthyAfter, "Nodes:GoneAfter must be at least the unhealthy threshold (HeartbeatInterval × MissedBeforeUnhealthy).")
            .ValidateOnStart();
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section);
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .Validate(o => o.Interval > TimeSpan.Zero, "Retention:Interval must be positive.");
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Validate(o => o.AllowedNetworks.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "Webhooks:AllowedNetworks must be space-separated CIDR networks such as 10.0.0.0/8.")
            .Validate(o => o.MaxConcurrentDeliveries >= 1 && o.MaxConcurrentPerReceiver >= 1,
                "Webhooks:MaxConcurrentDeliveries and Webhooks:MaxConcurrentPerReceiver must be at least 1.")
            .ValidateOnStart();
        services.AddOptions<ArchiveOptions>().BindConfiguration(ArchiveOptions.Section)
            .Validate(o => o.MaxDuration > TimeSpan.Zero && o.UrlLifetime > TimeSpan.Zero && o.NodeLostAfter > TimeSpan.Zero && o.SweepInterval > TimeSpan.Zero,
                "Archives:MaxDuration, UrlLifetime, NodeLostAfter and SweepInterval must be positive.");
        services.AddOptions<ArchiveStorageOptions>().BindConfiguration(ArchiveStorageOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    public static IServiceCollection AddPersistence(this IServiceCollection services)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .PostConfigure<IConfiguration>((o, configuration) => o.ConnectionString ??= configuration.GetConnectionString("Webinar"));
        services.TryAddSingleton(sp => ConnectionStrings.CreateDataSource(sp.GetRequiredService<IOptions<DatabaseOptions>>()));
        services.TryAddSingleton<DbDataSource>(sp => sp.GetRequiredService<NpgsqlDataSource>());

        // First hosted service: the schema exists before the bus, the outbox publisher and Quartz start.
        services.AddHostedService<SchemaMigrator>();
        return services;
    }

    public static IServiceCollection AddMessaging(this IServiceCollection services)
    {
        services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.Section);
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<NodeLiveness>();
        services.TryAddSingleton<Placement>();
        services.TryAddSingleton<PlacementReader>();
        services.AddBusTrust(_ => BusPrincipals.ControlPlane);
        services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter("control-plane", false));
            bus.AddConsumer<NodeHeartbeatConsumer>();
            bus.AddConsumer<AttendeeJoinedConsumer>();
            bus.AddConsumer<AttendeeLeftConsumer>();
            bus.AddConsumer<GetMeetingPlacementConsumer>();
            bus.AddConsumer<GetNodeMeetingsConsumer>();
            bus.AddConsumer<ArchiveReportsConsumer>();
            bus.AddConsumer<ArchiveCommandConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var o = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(o.Host, (ushort)o.Port, o.VirtualHost, h =>
                {
                    h.Username(o.Username);
                    h.Password(o.Password);
                });
                rabbit.UseBusTrust(context);
                rabbit.UseMessageRetry(r =>
                {
                    r.Intervals(100, 500, 1000, 2000);
                    r.IgnoreRefusals();
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(30);
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        services.AddHostedService<OutboxPublisher>();
        return services;
    }

    public static IServiceCollection AddJoinTokens(this IServiceCollection services)
    {
        services.TryAddSingleton<JoinTokenKeys>();
        services.TryAddSingleton<JoinTokenIssuer>();
        services.AddOptions<TurnOptions>().BindConfiguration(TurnOptions.Section);
        services.TryAddSingleton<TurnCredentialIssuer>();
        return services;
    }

    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.TryAddSingleton<WebhookTargets>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<WebhookTargets>().CreateHandler());
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }

    public static IServiceCollection AddIdleReaper(this IServiceCollection services)
    {
        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(s =>
            {
                s.InstanceName = "webinar-control-plane";
                s.GenerateInstanceId = true;
            });
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(data => data.UseRegisteredDataSource = true);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = TimeSpan.FromSeconds(5);
                    c.CheckinMisfireThreshold = TimeSpan.FromSeconds(15);
                });
                store.UseSystemTextJsonSerializer();
            });
            quartz.ScheduleJob<IdleReaperJob>(
                (sp, trigger) => trigger
                    .WithIdentity("idle-reaper", "webinar")
                    .StartNow()
                    .WithSimpleSchedule(s => s
                        .WithInterval(sp.GetRequiredService<IOptions<IdleOptions>>().Value.SweepInterval)
                        .RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                (_, job) => job.WithIdentity(IdleReaperJob.Key).StoreDurably());
            quartz.ScheduleJob<RetentionJob>(
                (sp, trigger) => trigger
                    .WithIdentity("retention", "webinar")
                    .StartNow()
                    .WithSimpleSchedule(s => s
                        .WithInterval(sp.GetRequiredService<IOptions<RetentionOptions>>().Value.Interval)
                        .RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                (_, job) => job.WithIdentity(RetentionJob.Key).StoreDurably());
            quartz.ScheduleJob<ArchiveSweepJob>(
                (sp, trigger) => trigger
                    .WithIdentity("archive-sweep", "webinar")
                    .StartNow()
                    .WithSimpleSchedule(s => s
                        .WithInterval(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value.SweepInterval)
                        .RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                (_, job) => job.WithIdentity(ArchiveSweepJob.Key).StoreDurably());
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return services;
    }

    public static IServiceCollection AddApi(this IServiceCollection services)
    {
        services.AddControlPlaneOptions();
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.AddOptions<TlsListenOptions>().BindConfiguration(ControlPlaneTls.Section);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpOptions>, IOptions<TlsListenOptions>>((kestrel, http, tls) =>
        {
            kestrel.Listen(IPAddress.Parse(http.Value.ListenAddress), http.Value.Port);
            ControlPlaneTls.Listen(kestrel, tls.Value);
            kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.TryAddSingleton<PlatformDirectory>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddOpenApi();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("postgresql", tags: ["ready"]);
        services.AddMediation(typeof(ServiceCollectionExtensions).Assembly);
        services.TryAddSingleton<AttendeeWriter>();
        services.TryAddSingleton<ArchiveUrls>();
        services.TryAddSingleton<IArchiveStorage>(sp => new DirectoryArchiveStorage(sp.GetRequiredService<IOptions<ArchiveStorageOptions>>().Value.EffectiveDirectory));
        return services;
    }

    public static void ConfigureJson(System.Text.Json.JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = null;
        json.DictionaryKeyPolicy = null;
        json.NumberHandling = JsonNumberHandling.Strict;
        json.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        json.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
    }
}
