using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Media;

/// <summary>
/// <c>GET /diagnostics/media</c>: the media loop's counters (<see cref="MediaCountersSnapshot"/>) as JSON, read on the
/// loop thread so the set is consistent (handled + dropped = received). Counters only; nothing about meetings or
/// peers. 404 on a node without the real media plane (signalling tests), 503 when the media thread does not answer.
/// </summary>
internal static class MediaDiagnostics
{
    public const string Path = "/diagnostics/media";

    private static readonly TimeSpan LoopWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapMediaDiagnostics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, static async (IMediaPlane plane, CancellationToken cancellationToken) =>
        {
            if (plane is not NodeMediaPlane media)
            {
                return Results.NotFound();
            }

            var counters = media.Node.Counters;
            try
            {
                var snapshot = await media.Node.Loop.InvokeAsync(counters.Snapshot).WaitAsync(LoopWait, cancellationToken).ConfigureAwait(false);
                return Results.Ok(snapshot);
            }
            catch (TimeoutException)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable); // the media thread is not running
            }
        });
        return endpoints;
    }
}
