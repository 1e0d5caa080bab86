using System.Diagnostics;
using EdgeNet.Execution;
using EdgeNet.IR;
using EdgeNet.Onnx;
using EdgeNet.Passes;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNet.Benchmarks;

internal readonly record struct Timing(double EdgeNetMs, double OrtMs, double EdgeNetAllocPerRun);

/// <summary>
/// One model loaded in both engines with the same seeded float inputs. ONNX Runtime runs with all graph
/// optimizations, IntraOp = threads, and pre-bound input/output OrtValues (so it allocates no outputs per run).
/// Runs alternate between the engines so both see the same machine state.
/// </summary>
internal sealed class SideBySide : IDisposable
{
    private readonly Session _edge;
    private readonly InferenceSession _ort;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly List<OrtValue> _values = [];

    public SideBySide(ModelSpec spec, int threads)
    {
        var model = OnnxImporter.Load(spec.Path);
        PassPipeline.Optimize(model);
        var options = new EdgeNet.Execution.SessionOptions { Threads = threads };
        foreach (var (name, dims) in spec.Shapes) options.InputShapes[name] = dims;
        _edge = new Session(model, options);

        var ortOptions = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        ortOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _ort = new InferenceSession(spec.Path, ortOptions);
        _binding = _ort.CreateIoBinding();

        var rng = new Random(1234);
        for (int i = 0; i < _edge.InputValues.Count; i++)
        {
            var span = _edge.Input<float>(i);
            for (int k = 0; k < span.Length; k++) span[k] = (float)(rng.NextDouble() * 2 - 1);
            var data = span.ToArray();
            var value = OrtValue.CreateTensorValueFromMemory(data, _edge.InputShape(i).Select(d => (long)d).ToArray());
            _values.Add(value);
            _binding.BindInput(_edge.InputValues[i].Name, value);
        }
        _edge.Run();
        for (int i = 0; i < _edge.OutputValues.Count; i++)
        {
            var value = OrtValue.CreateTensorValueFromMemory(new float[_edge.Output<float>(i).Length], _edge.OutputShape(i).Select(d => (long)d).ToArray());
            _values.Add(value);
            _binding.BindOutput(_edge.OutputValues[i].Name, value);
        }
    }

    public Timing Measure(int runs)
    {
        // warm up past the JIT's tiering (methods called 30+ times are recompiled optimized after a short delay, on a
        // background thread that a loaded machine may starve for seconds): at least 50 runs and 500 ms, then until the
        // medians of two successive rounds of 10 EdgeNet runs agree within 5% (at most 20 s)
        long warmStart = Stopwatch.GetTimestamp();
        var round = new double[10];
        double previous = double.MaxValue;
        for (int i = 0; ; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            _edge.Run();
            round[i % round.Length] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            _ort.RunWithBinding(_runOptions, _binding);
            if (i % round.Length != round.Length - 1) continue;
            double median = Median((double[])round.Clone());
            bool steady = Math.Abs(median - previous) <= 0.05 * previous;
            previous = median;
            double elapsed = Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds;
            if ((i >= 50 && elapsed >= 500 && steady) || elapsed >= 20_000) break;
        }
        var edge = new double[runs];
        var ort = new double[runs];
        long allocated = 0;
        for (int i = 0; i < runs; i++)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            _edge.Run();
            edge[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
            t0 = Stopwatch.GetTimestamp();
            _ort.RunWithBinding(_runOptions, _binding);
            ort[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        return new Timing(Median(edge), Median(ort), (double)allocated / runs);
    }

    private static double Median(double[] xs)
    {
        Array.Sort(xs);
        return xs.Length % 2 == 1 ? xs[xs.Length / 2] : (xs[xs.Length / 2 - 1] + xs[xs.Length / 2]) / 2;
    }

    public void Dispose()
    {
        foreach (var v in _values) v.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _ort.Dispose();
    }
}
