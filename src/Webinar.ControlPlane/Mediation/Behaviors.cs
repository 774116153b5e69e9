using System.Diagnostics;
using MediatR;
using Webinar.ControlPlane.Api;
using Webinar.ControlPlane.Diagnostics;

namespace Webinar.ControlPlane.Mediation;

/// <summary>Checks a request before its handler runs; returns the first problem or null.</summary>
internal interface IValidator<in TRequest>
{
    string? Validate(TRequest request);
}

/// <summary>Runs every <see cref="IValidator{TRequest}"/> of the request; a problem is a 400 BadRequest.</summary>
internal sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators) : IPipelineBehavior<TRequest, TResponse>
{
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        foreach (var validator in validators)
        {
            if (validator.Validate(request) is { } problem)
            {
                throw ApiException.BadRequest(problem);
            }
        }

        return next();
    }
}

/// <summary>Logs each operation's outcome and duration.</summary>
internal sealed class LoggingBehavior<TRequest, TResponse>(ILogger<LoggingBehavior<TRequest, TResponse>> logger) : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await next();
            logger.OperationCompleted(typeof(TRequest).Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
        catch (ApiException e)
        {
            logger.OperationRefused(typeof(TRequest).Name, e.Code, e.Message);
            throw;
        }
    }
}
