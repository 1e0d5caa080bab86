using System.Globalization;

namespace EdgeNet.Benchmarks;

/// <summary>A model path with optional input shapes: <c>model.onnx:input=1x16000,other=1x3</c>.</summary>
internal sealed record ModelSpec(string Path, Dictionary<string, int[]> Shapes)
{
    public string ShapeSuffix => Shapes.Count == 0 ? "" : " (" + string.Join(", ", Shapes.Select(kv => $"{kv.Key}={string.Join('x', kv.Value)}")) + ")";

    /// <summary><see cref="Parse"/> that reports a malformed argument instead of throwing.</summary>
    public static bool TryParse(string arg, out ModelSpec spec)
    {
        try
        {
            spec = Parse(arg);
            return spec.Shapes.Values.All(d => d.Length > 0 && d.All(x => x > 0));
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            spec = null!;
            return false;
        }
    }

    public static ModelSpec Parse(string arg)
    {
        int colon = arg.IndexOf(".onnx:", StringComparison.Ordinal);
        if (colon < 0) return new ModelSpec(arg, []);
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var part in arg[(colon + 6)..].Split(','))
        {
            var (name, dims) = (part[..part.IndexOf('=', StringComparison.Ordinal)], part[(part.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            shapes[name] = dims.Split('x').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        }
        return new ModelSpec(arg[..(colon + 5)], shapes);
    }
}
