using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNet.Execution;
using EdgeNet.Onnx;
using EdgeNet.Passes;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNet.Benchmarks;

/// <summary>
/// <c>--ort-profile</c>: per-layer time of one model in both engines, single session each, batch as given.
/// ONNX Runtime runs with its profiler on (IntraOp = threads, all graph optimizations) and each node's median
/// "kernel_time" event over the runs is taken; EdgeNet times each kernel of its plan the same number of runs and takes
/// the median. Rows are joined by node name or by output name (ORT's NCHWc layout pass names its fused convs after
/// their output value plus "_nchwc", and folds a residual Add into the conv before it); nodes only one engine has are
/// listed with a dash for the other. ORT's profiler rounds to whole microseconds and adds its own overhead per node,
/// so the totals exceed a plain run; compare layers relative to each other. Minima are printed too: on a loaded machine
/// they are the steadier figure. Run with DOTNET_TieredCompilation=0 on a loaded machine: under load the JIT's
/// background tier-up may not finish within the warm-up, and kernels are then timed as unoptimized code.
/// </summary>
internal static class LayerProfile
{
    public static void Run(ModelSpec spec, int threads, int runs)
    {
        var ort = OrtMedians(spec, threads, runs);
        var edge = EdgeMedians(spec, threads, runs, out var edgeInfo);
        var names = edge.Keys.ToList();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
            foreach (var key in new[] { name, edgeInfo[name].Output })
                if (ort.ContainsKey(key) && matched.Add(key))
                {
                    edgeInfo[name] = edgeInfo[name] with { Output = key };
                    break;
                }
        foreach (var key in ort.Keys) if (!matched.Contains(key)) names.Add(key);
        double edgeTotal = edge.Values.Sum(v => v.Us), ortTotal = ort.Values.Sum(v => v.Us);
        double edgeMin = edge.Values.Sum(v => v.Min), ortMin = ort.Values.Sum(v => v.Min);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## {Path.GetFileName(spec.Path)}{spec.ShapeSuffix}: sum of per-layer medians EdgeNet {edgeTotal:F1} µs, ORT {ortTotal:F1} µs; of minima EdgeNet {edgeMin:F1} µs, ORT {ortMin:F1} µs"));
        Console.WriteLine("| # | node | EdgeNet kernel | ORT op | EdgeNet µs | ORT µs | gap µs | EdgeNet min | ORT min | GMAC/s (EdgeNet min) |");
        Console.WriteLine("|---:|---|---|---|---:|---:|---:|---:|---:|---:|");
        int row = 0;
        foreach (var name in names)
        {
            bool hasE = edge.TryGetValue(name, out var eTimes);
            double e = eTimes.Us;
            string ortKey = hasE ? edgeInfo[name].Output : name;
            bool hasO = (!hasE || matched.Contains(ortKey)) && ort.TryGetValue(ortKey, out _);
            var o = hasO ? ort[ortKey] : default;
            string kernel = hasE ? edgeInfo[name].Kernel : "-";
            string gmacs = hasE && edgeInfo[name].Macs > 0 ? (edgeInfo[name].Macs / eTimes.Min / 1e3).ToString("F1", CultureInfo.InvariantCulture) : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row++} | {name} | {kernel} | {(hasO ? o.Op : "-")} | {(hasE ? e.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {(hasO ? o.Us.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {(hasE ? e : 0) - (hasO ? o.Us : 0):F1} | {(hasE ? eTimes.Min.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {(hasO ? o.Min.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {gmacs} |"));
        }
    }

    private static Dictionary<string, (string Op, double Us, double Min)> OrtMedians(ModelSpec spec, int threads, int runs)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"edgenet-ort-profile-{Environment.ProcessId}");
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true,
            ProfileOutputPathPrefix = prefix,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        string file;
        using (var session = new InferenceSession(spec.Path, options))
        {
            var feeds = new List<NamedOnnxValue>();
            var rng = new Random(1234);
            foreach (var (name, meta) in session.InputMetadata)
            {
                var dims = spec.Shapes.TryGetValue(name, out var given) ? given : meta.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
                var data = new float[dims.Aggregate(1, (a, b) => a * b)];
                for (int k = 0; k < data.Length; k++) data[k] = (float)(rng.NextDouble() * 2 - 1);
                feeds.Add(NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(data, dims)));
            }
            for (int i = 0; i < 20 + runs; i++) session.Run(feeds).Dispose();
            file = session.EndProfiling();
        }
        var times = new Dictionary<string, (string Op, List<double> Us)>(StringComparer.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var ev in doc.RootElement.EnumerateArray())
            {
                if (ev.GetProperty("cat").GetString() != "Node") continue;
                string name = ev.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                name = name[..^"_kernel_time".Length];
                if (name.EndsWith("_nchwc", StringComparison.Ordinal)) name = name[..^"_nchwc".Length];
                string op = ev.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var opName) ? opName.GetString() ?? "" : "";
                if (!times.TryGetValue(name, out var list)) times[name] = list = (op, []);
                list.Us.Add(ev.GetProperty("dur").GetDouble());
            }
        File.Delete(file);
        // the first 20 runs are warm-up
        return times.ToDictionary(kv => kv.Key, kv =>
        {
            var last = kv.Value.Us.Skip(Math.Max(0, kv.Value.Us.Count - runs)).ToArray();
            return (kv.Value.Op, Median(last), last.Min());
        }, StringComparer.Ordinal);
    }

    private static Dictionary<string, (double Us, double Min)> EdgeMedians(ModelSpec spec, int threads, int runs, out Dictionary<string, (string Kernel, long Macs, string Output)> info)
    {
        var model = OnnxImporter.Load(spec.Path);
        PassPipeline.Optimize(model);
        var options = new EdgeNet.Execution.SessionOptions { Threads = threads };
        foreach (var (name, dims) in spec.Shapes) options.InputShapes[name] = dims;
        var session = new Session(model, options);
        var rng = new Random(1234);
        for (int i = 0; i < session.InputValues.Count; i++)
        {
            var span = session.Input<float>(i);
            for (int k = 0; k < span.Length; k++) span[k] = (float)(rng.NextDouble() * 2 - 1);
        }
        var plan = session.Plan;
        var samples = new double[plan.Steps.Length][];
        for (int s = 0; s < samples.Length; s++) samples[s] = new double[runs];
        long warm = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50 || Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 500; i++) plan.Run();
        for (int run = 0; run < runs; run++)
            for (int s = 0; s < plan.Steps.Length; s++)
            {
                long start = Stopwatch.GetTimestamp();
                plan.Steps[s].Kernel.Execute(plan.Context);
                samples[s][run] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        var result = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        info = new Dictionary<string, (string, long, string)>(StringComparer.Ordinal);
        for (int s = 0; s < plan.Steps.Length; s++)
        {
            var step = plan.Steps[s];
            string name = step.Node.Name;
            while (result.ContainsKey(name)) name += "'";
            result[name] = (Median(samples[s]), samples[s].Min());
            info[name] = (step.Node.OpType + ":" + step.Kernel.GetType().Name, step.Macs, step.Node.Outputs[0].Name);
        }
        return result;
    }

    private static double Median(double[] xs)
    {
        if (xs.Length == 0) return 0;
        Array.Sort(xs);
        return xs.Length % 2 == 1 ? xs[xs.Length / 2] : (xs[xs.Length / 2 - 1] + xs[xs.Length / 2]) / 2;
    }
}
