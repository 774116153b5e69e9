using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Archives;
using Webinar.ControlPlane.Attendees;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.JoinTokens;
using Webinar.ControlPlane.Meetings;
using Webinar.ControlPlane.Nodes;
using Webinar.ControlPlane.Operations;

namespace Webinar.ControlPlane.Hosting;

/// <summary>
/// Builds the control plane. Program.cs calls it with the command line; tests call it with a hook that adds
/// their configuration and services (a test server, another TimeProvider) before the host is built.
/// </summary>
internal static class ControlPlaneApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddWebinarEnvironment();
        configure?.Invoke(builder);

        builder.Services
            .AddPersistence()
            .AddApi()
            .AddJoinTokens()
            .AddMessaging()
            .AddWebhooks()
            .AddIdleReaper()
            .AddMetricsEndpoint();

        var app = builder.Build();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        // Degraded (MassTransit's bus while RabbitMQ is unreachable) is not ready: 503, as for Unhealthy.
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous();
        app.MapNodeHealth();
        app.MapPrometheusScrapingEndpoint().AllowAnonymous();
        app.MapJoinTokenKeys();
        app.MapOperations();
        app.MapGroup("/meetings")
            .RequireAuthorization()
            .WithTags("Meetings")
            .MapMeetings()
            .MapAttendees()
            .MapMeetingArchives();
        app.MapGroup("/archives")
            .RequireAuthorization()
            .WithTags("Archives")
            .MapArchives();
        return app;
    }
}
