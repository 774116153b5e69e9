using System.Text.Json;

namespace Webinar.Sfu.Signaling;

internal enum ClientFrameType
{
    Join,
    Offer,
    Promote,
    Demote,
    Leave,
    StartArchive,
    StopArchive,
    SetPreferredLayers,
}

/// <summary>
/// A parsed client frame. <see cref="IdJson"/> is the raw JSON of the optional <c>id</c> (a string or a number),
/// echoed verbatim on the reply or error.
/// </summary>
internal sealed record ClientFrame(ClientFrameType Type, string? Token, string? Sdp, string? IdJson)
{
    /// <summary><c>join</c> only: the client pre-negotiates its slots (docs/signaling.md, "Pre-negotiated slots").</summary>
    public bool PreNegotiate { get; init; }

    /// <summary>set-preferred-layers: the stream, the highest spatial layer wanted, and optionally the temporal one.</summary>
    public string? StreamId { get; init; }

    public int SpatialLayer { get; init; }

    public int? TemporalLayer { get; init; }
}

/// <summary>Parses client frames. Never throws: bad input gives false with an error message.</summary>
internal static class ClientFrameParser
{
    private const int MaxIdLength = 128;
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16 };

    /// <param name="idJson">The frame's id even when parsing failed later, so the error can echo it.</param>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientFrame? frame, out string? idJson, out string error)
    {
        frame = null;
        idJson = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), Options);
        }
        catch (JsonException)
        {
            error = "The frame is not valid JSON.";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "A frame is a JSON object.";
                return false;
            }

            if (root.TryGetProperty("id", out var id))
            {
                if (id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                {
                    error = "\"id\" must be a string or a number.";
                    return false;
                }

                var raw = id.GetRawText();
                if (raw.Length > MaxIdLength)
                {
                    error = $"\"id\" is longer than {MaxIdLength} characters.";
                    return false;
                }

                idJson = raw;
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                error = "\"type\" (a string) is required.";
                return false;
            }

            var type = typeElement.GetString();
            switch (type)
            {
                case "join":
                    if (!TryOptionalBoolean(root, "preNegotiate", out var preNegotiate, out error))
                    {
                        return false;
                    }

                    if (!TryWithString(root, "token", ClientFrameType.Join, idJson, out frame, out error))
                    {
                        return false;
                    }

                    frame = frame! with { PreNegotiate = preNegotiate };
                    return true;
                case "promote":
                    return TryWithString(root, "token", ClientFrameType.Promote, idJson, out frame, out error);
                case "offer":
                    return TryWithString(root, "sdp", ClientFrameType.Offer, idJson, out frame, out error);
                case "demote":
                    frame = new ClientFrame(ClientFrameType.Demote, null, null, idJson);
                    error = string.Empty;
                    return true;
                case "start-archive":
                    frame = new ClientFrame(ClientFrameType.StartArchive, null, null, idJson);
                    error = string.Empty;
                    return true;
                case "stop-archive":
                    frame = new ClientFrame(ClientFrameType.StopArchive, null, null, idJson);
                    error = string.Empty;
                    return true;
                case "set-preferred-layers":
                    return TryPreferredLayers(root, idJson, out frame, out error);
                case "leave":
                    frame = new ClientFrame(ClientFrameType.Leave, null, null, idJson);
                    error = string.Empty;
                    return true;
                default:
                    error = $"Unknown frame type \"{Truncate(type)}\".";
                    return false;
            }
        }
    }

    private static bool TryWithString(JsonElement root, string name, ClientFrameType type, string? idJson, out ClientFrame? frame, out string error)
    {
        frame = null;
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            error = $"\"{name}\" (a non-empty string) is required.";
            return false;
        }

        frame = type == ClientFrameType.Offer
            ? new ClientFrame(type, null, text, idJson)
            : new ClientFrame(type, text, null, idJson);
        error = string.Empty;
        return true;
    }

    private static bool TryOptionalBoolean(JsonElement root, string name, out bool value, out string error)
    {
        value = false;
        error = string.Empty;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = $"\"{name}\" must be true or false.";
            return false;
        }

        value = element.GetBoolean();
        return true;
    }

    private const int MaxLayer = 3;
    private const int MaxStreamIdLength = 128;

    private static bool TryPreferredLayers(JsonElement root, string? idJson, out ClientFrame? frame, out string error)
    {
        frame = null;
        if (!root.TryGetProperty("streamId", out var stream) || stream.ValueKind != JsonValueKind.String
            || stream.GetString() is not { Length: > 0 and <= MaxStreamIdLength } streamId)
        {
            error = $"\"streamId\" (a string of 1 to {MaxStreamIdLength} characters) is required.";
            return false;
        }

        if (!root.TryGetProperty("spatialLayer", out var spatial) || !TryLayer(spatial, out var spatialLayer))
        {
            error = $"\"spatialLayer\" (an integer from 0 to {MaxLayer}) is required.";
            return false;
        }

        int? temporalLayer = null;
        if (root.TryGetProperty("temporalLayer", out var temporal))
        {
            if (!TryLayer(temporal, out var t))
            {
                error = $"\"temporalLayer\" must be an integer from 0 to {MaxLayer}.";
                return false;
            }

            temporalLayer = t;
        }

        frame = new ClientFrame(ClientFrameType.SetPreferredLayers, null, null, idJson)
        {
            StreamId = streamId,
            SpatialLayer = spatialLayer,
            TemporalLayer = temporalLayer,
        };
        error = string.Empty;
        return true;
    }

    private static bool TryLayer(JsonElement element, out int layer)
    {
        layer = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out layer) && layer is >= 0 and <= MaxLayer;
    }

    private static string Truncate(string? s) => s is null ? string.Empty : s.Length <= 32 ? s : s[..32] + "...";
}
