using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Archives;
using Webinar.ControlPlane.Attendees;
using Webinar.ControlPlane.JoinTokens;
using Webinar.ControlPlane.Meetings;

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
            .AddIdleReaper();

        var app = builder.Build();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapJoinTokenKeys();
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
