namespace Webinar.ControlPlane.Api;

/// <summary>The error body of every failed call: <c>{ "Code": "...", "Message": "..." }</c>.</summary>
internal sealed record ApiError(string Code, string Message);

/// <summary>The error codes the API answers with, as Chime spells them.</summary>
internal static class ErrorCodes
{
    public const string BadRequest = "BadRequest";
    public const string Unauthorized = "Unauthorized";
    public const string NotFound = "NotFound";
    public const string Conflict = "Conflict";
    public const string LimitExceeded = "LimitExceeded";
    public const string ServiceUnavailable = "ServiceUnavailable";
    public const string MethodNotAllowed = "MethodNotAllowed";
    public const string PayloadTooLarge = "PayloadTooLarge";
    public const string UnsupportedMediaType = "UnsupportedMediaType";
    public const string InternalError = "InternalError";
}

/// <summary>
/// A refusal raised by a validator or handler; <see cref="ErrorHandlingMiddleware"/> turns it into the HTTP status
/// and <see cref="ApiError"/> body.
/// </summary>
internal sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, ErrorCodes.BadRequest, message);

    public static ApiException NotFound(string message) => new(StatusCodes.Status404NotFound, ErrorCodes.NotFound, message);

    public static ApiException Conflict(string message) => new(StatusCodes.Status409Conflict, ErrorCodes.Conflict, message);

    public static ApiException LimitExceeded(string message) => new(StatusCodes.Status400BadRequest, ErrorCodes.LimitExceeded, message);

    public static ApiException ServiceUnavailable(string message) => new(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable, message);
}
