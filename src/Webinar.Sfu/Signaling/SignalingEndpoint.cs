using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Signaling;

internal static class SignalingEndpoint
{
    public const string Path = "/signal";

    /// <summary>Maps the signalling WebSocket at <c>/signal</c> (docs/signaling.md).</summary>
    public static IEndpointRouteBuilder MapSignaling(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map(Path, static async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
                await context.Response.WriteAsync("Signalling is a WebSocket: connect with ws://.../signal.").ConfigureAwait(false);
                return;
            }

            var services = context.RequestServices.GetRequiredService<SessionServices>();
            var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            await new SignalingConnection(socket, services).RunAsync(stopping, context.RequestAborted).ConfigureAwait(false);
        });
        return endpoints;
    }
}
