using System.Globalization;
using EdgeNet.Benchmarks;

// Side-by-side model timing: EdgeNet and ONNX Runtime on the same model, same inputs, same process, alternating.
//   edgenet-vs-ort [--threads N] [--runs N] [--markdown] [--ort-profile] MODEL[:NAME=DIMS,...]...
// --ort-profile prints a per-layer table instead (median µs per node in each engine; see LayerProfile).
const string Usage = "usage: edgenet-vs-ort [--threads N] [--runs N] [--markdown] [--ort-profile] MODEL[:NAME=1x16000,...]...";
int threads = 1, runs = 50;
bool markdown = false, layers = false;
var specs = new List<ModelSpec>();
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    if (a is "--threads" or "--runs" && (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
    {
        Console.Error.WriteLine($"{a} needs a positive whole number\n{Usage}");
        return 2;
    }
    switch (a)
    {
        case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--markdown": markdown = true; break;
        case "--ort-profile": layers = true; break;
        case "-h" or "--help": Console.WriteLine(Usage); return 0;
        default:
            if (a.StartsWith('-'))
            {
                Console.Error.WriteLine($"unknown option '{a}'\n{Usage}");
                return 2;
            }
            if (!ModelSpec.TryParse(a, out var spec))
            {
                Console.Error.WriteLine($"bad model argument '{a}': expected MODEL.onnx[:NAME=DIMS,...] with DIMS like 1x16000\n{Usage}");
                return 2;
            }
            if (!File.Exists(spec.Path))
            {
                Console.Error.WriteLine($"model file not found: {spec.Path}");
                return 2;
            }
            specs.Add(spec);
            break;
    }
}
if (specs.Count == 0 || threads < 1 || runs < 1)
{
    Console.Error.WriteLine(Usage);
    return 2;
}
if (layers)
{
    foreach (var spec in specs) LayerProfile.Run(spec, threads, runs);
    return 0;
}

if (markdown)
{
    Console.WriteLine($"| model | EdgeNet median ms | ORT median ms | EdgeNet/ORT | EdgeNet B/run | threads |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
}
foreach (var spec in specs)
{
    using var pair = new SideBySide(spec, threads);
    var r = pair.Measure(runs);
    string file = Path.GetFileName(spec.Path);
    string name = (file == "model.onnx" ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(spec.Path))) : file) + spec.ShapeSuffix;
    Console.WriteLine(markdown
        ? string.Create(CultureInfo.InvariantCulture, $"| {name} | {r.EdgeNetMs:F3} | {r.OrtMs:F3} | {r.EdgeNetMs / r.OrtMs:F2} | {r.EdgeNetAllocPerRun:F0} | {threads} |")
        : string.Create(CultureInfo.InvariantCulture, $"{name}: EdgeNet {r.EdgeNetMs:F3} ms, ORT {r.OrtMs:F3} ms, ratio {r.EdgeNetMs / r.OrtMs:F2}, EdgeNet {r.EdgeNetAllocPerRun:F0} B/run"));
}
return 0;
