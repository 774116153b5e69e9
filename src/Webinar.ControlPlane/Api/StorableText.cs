namespace Webinar.ControlPlane.Api;

/// <summary>
/// The one rule for client text the control plane stores: PostgreSQL's <c>text</c> and <c>jsonb</c> cannot hold a
/// NUL character, and a lone UTF-16 surrogate has no UTF-8 form, so both are refused as a 400 naming the field
/// before anything reaches the database.
/// </summary>
internal static class StorableText
{
    /// <summary>Null when <paramref name="value"/> (or null) can be stored, else the problem with <paramref name="field"/>.</summary>
    public static string? Problem(string field, string? value)
    {
        if (value is null)
        {
            return null;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return $"{field} must not contain the NUL character (U+0000).";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"{field} must be valid Unicode text (it contains a lone surrogate).";
            }
        }

        return null;
    }
}
