using System.Globalization;

namespace Webinar.Benchmarks.Sfu;

/// <summary><c>--name value</c> pairs of a console verb, with defaults and bounds.</summary>
internal sealed class RunArguments
{
    private readonly Dictionary<string, string> _values = [];

    private RunArguments()
    {
    }

    public static bool TryParse(string[] args, string[] known, out RunArguments parsed, out string error)
    {
        parsed = new RunArguments();
        error = "";
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || Array.IndexOf(known, args[i]) < 0)
            {
                error = $"unknown or incomplete option {args[i]}; options: {string.Join(' ', known)}";
                return false;
            }

            parsed._values[args[i]] = args[i + 1];
        }

        return true;
    }

    public string Text(string name, string fallback) => _values.TryGetValue(name, out var text) ? text : fallback;

    public int Int(string name, int fallback, int min, int max)
    {
        int value = _values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return value < min || value > max ? throw new ArgumentOutOfRangeException(name, value, $"{name} must be {min}..{max}") : value;
    }

    public string String(string name, string fallback) => _values.TryGetValue(name, out var text) ? text : fallback;
}
