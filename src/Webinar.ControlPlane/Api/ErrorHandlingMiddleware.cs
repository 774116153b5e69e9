using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Diagnostics;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Api;

/// <summary>
/// Turns every failure into a status code with an <see cref="ApiError"/> body: refusals from handlers, bad
/// request bodies, parameters and routes rejected by minimal-API binding (which throws because
/// <c>ThrowOnBadRequest</c> is on), oversized bodies, and — logged — anything unexpected (500).
/// Also gives bodiless 404/405 answers the same shape.
/// </summary>
internal sealed class ErrorHandlingMiddleware(
    RequestDelegate next,
    IOptions<JsonOptions> json,
    IOptions<HttpOptions> http,
    ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            // Kestrel enforces the limit on streamed bodies too; this answers a declared oversize at once (and
            // under any server).
            if (context.Request.ContentLength > http.Value.MaxRequestBodyBytes)
            {
                await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                    $"The request body is larger than {http.Value.MaxRequestBodyBytes} bytes.");
                return;
            }

            await next(context);
            if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null)
            {
                var bodiless = context.Response.StatusCode switch
                {
                    StatusCodes.Status400BadRequest => (ErrorCodes.BadRequest, "The request is not valid."),
                    StatusCodes.Status404NotFound => (ErrorCodes.NotFound, "No such resource."),
                    StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, "The method is not allowed on this resource."),
                    StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "The request body is too large."),
                    StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.UnsupportedMediaType, "The request body must be application/json."),
                    _ => ((string, string)?)null,
                };
                if (bodiless is { } answer)
                {
                    await WriteAsync(context, context.Response.StatusCode, answer.Item1, answer.Item2);
                }
            }
        }
        catch (ApiException e)
        {
            await WriteAsync(context, e.Status, e.Code, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            var (status, code) = e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => (StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge),
                StatusCodes.Status415UnsupportedMediaType => (StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType),
                _ => (StatusCodes.Status400BadRequest, ErrorCodes.BadRequest),
            };
            await WriteAsync(context, status, code, Describe(e));
        }
        catch (JsonException e)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.BadRequest, "The request body is not valid JSON: " + e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception e)
        {
            logger.UnhandledError(context.Request.Method, context.Request.Path, e);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "The request failed; it can be retried.");
        }
    }

    private static string Describe(BadHttpRequestException e)
    {
        // Binding failures wrap the JSON reader's exception, whose message names the path and position.
        if (e.InnerException is JsonException json)
        {
            return "The request body is not valid: " + json.Message;
        }

        return e.Message;
    }

    private async Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new ApiError(code, message), json.Value.SerializerOptions, context.RequestAborted);
    }
}
