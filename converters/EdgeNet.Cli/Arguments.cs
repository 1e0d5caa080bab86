using System.Globalization;

namespace EdgeNet.Cli;

/// <summary>Bad command-line usage: printed with the command's usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A tiny strict parser: positional arguments plus --name value options (repeatable) and --flags.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = [];

    public Arguments(IEnumerable<string> args, IReadOnlySet<string> flags, IReadOnlySet<string> options, IReadOnlyDictionary<string, string>? aliases = null)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string a = e.Current;
            if (aliases is not null && aliases.TryGetValue(a, out var full)) a = full;
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                string name = a, value = "";
                int eq = a.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && options.Contains(a[..eq])) { name = a[..eq]; value = a[(eq + 1)..]; }
                if (flags.Contains(name)) { _flags.Add(name); continue; }
                if (!options.Contains(name)) throw new UsageException($"unknown option '{a}'");
                if (eq <= 0)
                {
                    if (!e.MoveNext()) throw new UsageException($"option '{name}' needs a value");
                    value = e.Current;
                }
                if (!_options.TryGetValue(name, out var list)) _options[name] = list = [];
                list.Add(value);
            }
            else Positional.Add(a);
        }
    }

    public bool Flag(string name) => _flags.Contains(name);
    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out var l) ? l : [];
    public string? Get(string name) => _options.TryGetValue(name, out var l) ? l[^1] : null;

    public int GetInt(string name, int fallback, int min = 0)
    {
        string? v = Get(name);
        if (v is null) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) || r < min)
            throw new UsageException($"{name} needs an integer ≥ {min}, got '{v}'");
        return r;
    }

    public double GetDouble(string name, double fallback)
    {
        string? v = Get(name);
        if (v is null) return fallback;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || r < 0)
            throw new UsageException($"{name} needs a non-negative number, got '{v}'");
        return r;
    }

    /// <summary>Parses NAME=VALUE pairs of a repeatable option.</summary>
    public IEnumerable<(string Name, string Value)> Pairs(string option)
    {
        foreach (var p in All(option))
        {
            int eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new UsageException($"{option} needs NAME=VALUE, got '{p}'");
            yield return (p[..eq], p[(eq + 1)..]);
        }
    }

    /// <summary>"1x3x224x224" → [1,3,224,224].</summary>
    public static int[] ParseDims(string text, string option)
    {
        var parts = text.Split('x', ',');
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]))
                throw new UsageException($"{option}: '{text}' is not a shape like 1x16000");
        return dims;
    }
}
