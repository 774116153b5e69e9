using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Webinar.ControlPlane.Api;

/// <summary>Reads a JSON request body with the API's serializer options; anything unreadable is a 400.</summary>
internal static class JsonBody
{
    public static async Task<T> ReadAsync<T>(HttpContext http, CancellationToken ct)
        where T : class
    {
        if (!http.Request.HasJsonContentType())
        {
            throw new ApiException(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType, "The request body must be application/json.");
        }

        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(options, ct)
                ?? throw ApiException.BadRequest("A request body is required.");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest("The request body is not valid: " + e.Message);
        }
    }
}
